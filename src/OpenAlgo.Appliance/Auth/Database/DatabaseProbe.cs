namespace OpenAlgo.Appliance.Auth.Database;

/// <summary>
/// Reads OpenAlgo's database once before the listeners open, so a wrong path, a permission problem
/// or a missing native package stops startup with the key to fix — not the first trader's login.
/// </summary>
internal sealed class DatabaseProbe(IApiKeyAuthenticator authenticator, string path) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (authenticator is not OpenAlgoDatabaseAuthenticator database) return Task.CompletedTask;
        try
        {
            database.Probe();
        }
        catch (DatabaseUnavailableException ex)
        {
            throw new InvalidOperationException(
                $"Appliance:Auth:DatabasePath: OpenAlgo's database '{path}' cannot be used: {ex.Message}. Fix: point Auth:DatabasePath (or DATABASE_URL) at OpenAlgo's db/openalgo.db, give the service user read access to it and its directory, and install libsqlite3-0 and libargon2-1.", ex);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
