using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace OpenAlgo.Appliance.Auth.Database;

/// <summary>
/// Read-only queries on OpenAlgo's SQLite database through the system's <c>libsqlite3.so.0</c>
/// (Debian <c>libsqlite3-0</c>, present wherever OpenAlgo runs). A connection is opened per query:
/// lookups are rare (results are cached) and a fresh handle always sees the file as it is now,
/// even after OpenAlgo replaced it.
/// </summary>
internal static partial class SqliteReader
{
    private const string Library = "libsqlite3.so.0";
    private const int OpenReadOnly = 0x00000001;
    private const int OpenNoMutex = 0x00008000;
    private const int Ok = 0;
    private const int Row = 100;
    private const int Done = 101;
    private const int TypeNull = 5;
    private static readonly nint Transient = -1;

    /// <summary>Runs <paramref name="sql"/> with text parameters; each row is read by <paramref name="read"/> as column texts (null for SQL NULL).</summary>
    public static List<T> Query<T>(string path, string sql, IReadOnlyList<string> parameters, Func<string?[], T> read)
    {
        nint db = 0;
        nint statement = 0;
        try
        {
            Check(sqlite3_open_v2(path, out db, OpenReadOnly | OpenNoMutex, null), db, $"open {path}");
            // OpenAlgo may be writing (login, key rotation): wait for its lock rather than fail.
            sqlite3_busy_timeout(db, 2000);
            Check(sqlite3_prepare_v2(db, sql, -1, out statement, 0), db, "prepare");
            for (int i = 0; i < parameters.Count; i++)
            {
                Check(sqlite3_bind_text(statement, i + 1, parameters[i], -1, Transient), db, "bind");
            }
            var rows = new List<T>();
            int columns = sqlite3_column_count(statement);
            while (true)
            {
                int step = sqlite3_step(statement);
                if (step == Done) break;
                if (step != Row) Check(step, db, "step");
                var values = new string?[columns];
                for (int c = 0; c < columns; c++)
                {
                    values[c] = sqlite3_column_type(statement, c) == TypeNull ? null : Marshal.PtrToStringUTF8(sqlite3_column_text(statement, c));
                }
                rows.Add(read(values));
            }
            return rows;
        }
        catch (DllNotFoundException ex)
        {
            throw new DatabaseUnavailableException($"{Library} is not installed (apt install libsqlite3-0)", ex);
        }
        finally
        {
            if (statement != 0) sqlite3_finalize(statement);
            if (db != 0) sqlite3_close_v2(db);
        }
    }

    private static void Check(int code, nint db, string what)
    {
        if (code == Ok) return;
        string message = db != 0 ? Marshal.PtrToStringUTF8(sqlite3_errmsg(db)) ?? "" : "";
        throw new DatabaseUnavailableException($"SQLite {what} failed ({code}): {message}");
    }

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int sqlite3_open_v2(string filename, out nint db, int flags, string? vfs);

    [LibraryImport(Library)]
    private static partial int sqlite3_busy_timeout(nint db, int milliseconds);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int sqlite3_prepare_v2(nint db, string sql, int bytes, out nint statement, nint tail);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int sqlite3_bind_text(nint statement, int index, string value, int bytes, nint destructor);

    [LibraryImport(Library)]
    private static partial int sqlite3_step(nint statement);

    [LibraryImport(Library)]
    private static partial int sqlite3_column_count(nint statement);

    [LibraryImport(Library)]
    private static partial int sqlite3_column_type(nint statement, int column);

    [LibraryImport(Library)]
    private static partial nint sqlite3_column_text(nint statement, int column);

    [LibraryImport(Library)]
    private static partial int sqlite3_finalize(nint statement);

    [LibraryImport(Library)]
    private static partial int sqlite3_close_v2(nint db);

    [LibraryImport(Library)]
    private static partial nint sqlite3_errmsg(nint db);
}

/// <summary>The database (or a native library it needs) cannot be used right now; not a verdict on the key.</summary>
internal sealed class DatabaseUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
