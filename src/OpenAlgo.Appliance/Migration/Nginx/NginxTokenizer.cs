using System.Text;

namespace OpenAlgo.Appliance.Migration.Nginx;

/// <summary>
/// nginx's own tokenizer (<c>ngx_conf_read_token</c>) for one file: words separated by white space,
/// <c>;</c> ends a directive, <c>{</c> opens a block and <c>}</c> closes one; <c>#</c> at the start of
/// a word comments out the rest of the line; <c>"…"</c> and <c>'…'</c> quote; a backslash escapes
/// (<c>\"</c> <c>\'</c> <c>\\</c> <c>\t</c> <c>\r</c> <c>\n</c> are translated, others kept);
/// <c>${var}</c> is part of a word, not a block. Errors use nginx's wording with file and line.
/// </summary>
internal sealed class NginxTokenizer(string file, string text)
{
    private int _position;
    private int _line = 1;

    public string File => file;
    public int Line => _line;

    /// <summary>
    /// Reads the words of the next directive. Returns what ended it: <c>';'</c>, <c>'{'</c> (a block
    /// follows), <c>'}'</c> (a block ends; no words) or <c>'\0'</c> at the end of the file (no words).
    /// </summary>
    public char Next(List<string> words, out int line)
    {
        words.Clear();
        line = _line;
        var word = new StringBuilder();
        bool inWord = false, quoted = false, singleQuoted = false, escaped = false, variable = false, needSpace = false;
        int wordLine = _line;

        while (_position < text.Length)
        {
            char ch = text[_position++];
            if (ch == '\n') _line++;

            if (needSpace)
            {
                needSpace = false;
                if (char.IsWhiteSpace(ch)) continue;
                if (ch is ';' or '{') return ch;
                if (ch == ')') continue;
                throw Error(ch == '\n' ? _line - 1 : _line, $"unexpected \"{ch}\"");
            }

            if (!inWord)
            {
                if (char.IsWhiteSpace(ch)) continue;
                switch (ch)
                {
                    case ';':
                    case '{':
                        if (words.Count == 0) throw Error(_line, $"unexpected \"{ch}\"");
                        return ch;
                    case '}':
                        if (words.Count != 0) throw Error(_line, "unexpected \"}\"");
                        line = _line;
                        return '}';
                    case '#':
                        SkipComment();
                        continue;
                }
                if (words.Count == 0) line = _line;
                inWord = true;
                wordLine = _line;
                word.Clear();
                if (ch == '"') { quoted = true; continue; }
                if (ch == '\'') { singleQuoted = true; continue; }
                if (ch == '\\') { escaped = true; word.Append(ch); continue; }
                if (ch == '$') variable = true;
                word.Append(ch);
                continue;
            }

            if (escaped)
            {
                escaped = false;
                word.Append(ch);
                continue;
            }
            if (ch == '{' && variable)
            {
                word.Append(ch);
                continue;
            }
            variable = false;
            if (ch == '\\') { escaped = true; word.Append(ch); continue; }
            if (ch == '$') { variable = true; word.Append(ch); continue; }

            if (quoted || singleQuoted)
            {
                if ((quoted && ch == '"') || (singleQuoted && ch == '\''))
                {
                    quoted = singleQuoted = false;
                    words.Add(Unescape(word));
                    inWord = false;
                    needSpace = true;
                    continue;
                }
                word.Append(ch);
                continue;
            }

            if (char.IsWhiteSpace(ch) || ch is ';' or '{')
            {
                words.Add(Unescape(word));
                inWord = false;
                if (ch is ';' or '{') return ch;
                continue;
            }
            word.Append(ch);
        }

        if (quoted || singleQuoted) throw Error(wordLine, "unexpected end of file in a quoted string, expecting the closing quote");
        if (inWord) words.Add(Unescape(word));
        if (words.Count > 0) throw Error(_line, "unexpected end of file, expecting \";\" or \"}\"");
        return '\0';
    }

    /// <summary>
    /// After <c>*_by_lua_block {</c>: the block is Lua, not nginx syntax (the lua module reads it
    /// itself); skipped to its matching brace, minding Lua strings and comments.
    /// </summary>
    public void SkipRawBlock(int startLine)
    {
        int depth = 1;
        while (_position < text.Length)
        {
            char ch = text[_position++];
            switch (ch)
            {
                case '\n': _line++; break;
                case '{': depth++; break;
                case '}':
                    if (--depth == 0) return;
                    break;
                case '"' or '\'':
                    while (_position < text.Length && text[_position] != ch)
                    {
                        if (text[_position] == '\\') _position++;
                        else if (text[_position] == '\n') _line++;
                        _position++;
                    }
                    _position++;
                    break;
                case '-' when _position < text.Length && text[_position] == '-':
                    while (_position < text.Length && text[_position] != '\n') _position++;
                    break;
            }
        }
        throw Error(startLine, "unexpected end of file in a Lua block, expecting \"}\"");
    }

    public NginxSyntaxException Error(int line, string problem) => new(file, line, problem);

    private void SkipComment()
    {
        while (_position < text.Length && text[_position] != '\n') _position++;
    }

    // nginx translates these escapes in every word, quoted or not, and keeps the backslash of any other.
    private static string Unescape(StringBuilder word)
    {
        if (word.ToString().IndexOf('\\') < 0) return word.ToString();
        var result = new StringBuilder(word.Length);
        for (int i = 0; i < word.Length; i++)
        {
            char ch = word[i];
            if (ch == '\\' && i + 1 < word.Length)
            {
                char next = word[i + 1];
                switch (next)
                {
                    case '"' or '\'' or '\\':
                        result.Append(next);
                        i++;
                        continue;
                    case 't': result.Append('\t'); i++; continue;
                    case 'r': result.Append('\r'); i++; continue;
                    case 'n': result.Append('\n'); i++; continue;
                }
            }
            result.Append(ch);
        }
        return result.ToString();
    }
}
