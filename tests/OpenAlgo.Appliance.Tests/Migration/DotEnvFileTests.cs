using OpenAlgo.Appliance.Migration.Discovery;

namespace OpenAlgo.Appliance.Tests.Migration;

/// <summary>The .env edit changes the value and not one other byte.</summary>
public sealed class DotEnvFileTests
{
    [Theory]
    [InlineData("WEBSOCKET_PORT='8765'\n", "WEBSOCKET_PORT='8766'\n")]
    [InlineData("WEBSOCKET_PORT = \"8765\"  # the proxy\n", "WEBSOCKET_PORT = \"8766\"  # the proxy\n")]
    [InlineData("export WEBSOCKET_PORT=8765 # bare\n", "export WEBSOCKET_PORT=8766 # bare\n")]
    [InlineData("A='1'\r\nWEBSOCKET_PORT='8765'\r\nB='2'\r\n", "A='1'\r\nWEBSOCKET_PORT='8766'\r\nB='2'\r\n")]
    [InlineData("  WEBSOCKET_PORT  =  '8765'   \n# WEBSOCKET_PORT='1'\n", "  WEBSOCKET_PORT  =  '8766'   \n# WEBSOCKET_PORT='1'\n")]
    public void Only_the_value_changes(string before, string after)
    {
        var env = DotEnvFile.Parse("/x/.env", before);
        Assert.Equal(8765, env.GetInt("WEBSOCKET_PORT", 0));
        Assert.Equal(after, env.With("WEBSOCKET_PORT", "8766"));
    }

    [Fact]
    public void The_last_assignment_wins_as_in_python_dotenv_and_every_one_is_edited()
    {
        var env = DotEnvFile.Parse("/x/.env", "WEBSOCKET_PORT='8765'\nZMQ_PORT='5555'\nWEBSOCKET_PORT='8767'\n");
        Assert.Equal("8767", env.Get("WEBSOCKET_PORT"));
        Assert.Equal(3, env.LineOf("WEBSOCKET_PORT"));
        Assert.Equal("WEBSOCKET_PORT='8770'\nZMQ_PORT='5555'\nWEBSOCKET_PORT='8770'\n", env.With("WEBSOCKET_PORT", "8770"));
    }

    [Theory]
    [InlineData("HOST_SERVER = 'https://a'\n", "HOST_SERVER = 'https://a'\nWEBSOCKET_PORT='8766'\n")]
    [InlineData("HOST_SERVER = 'https://a'", "HOST_SERVER = 'https://a'\nWEBSOCKET_PORT='8766'\n")]
    [InlineData("A=1\r\n", "A=1\r\nWEBSOCKET_PORT='8766'\r\n")]
    public void A_missing_key_is_appended_in_the_file_s_own_line_ending(string before, string after)
    {
        var env = DotEnvFile.Parse("/x/.env", before);
        Assert.Null(env.Get("WEBSOCKET_PORT"));
        Assert.Equal(after, env.With("WEBSOCKET_PORT", "8766"));
    }

    [Fact]
    public void Values_are_unquoted_and_comments_dropped()
    {
        var env = DotEnvFile.Parse("/x/.env", "A = 'x # not a comment'  # comment\nB=plain # comment\nC=\"d\"\n");
        Assert.Equal("x # not a comment", env.Get("A"));
        Assert.Equal("plain", env.Get("B"));
        Assert.Equal("d", env.Get("C"));
    }
}
