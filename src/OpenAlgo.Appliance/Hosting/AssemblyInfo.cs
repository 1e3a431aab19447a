// The appliance is a Linux service (systemd, Unix sockets, file modes); nothing else is supported.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
