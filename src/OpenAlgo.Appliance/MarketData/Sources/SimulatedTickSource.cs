using System.Buffers;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.MarketData.Gateway;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Sources;

/// <summary>
/// A stand-in broker for demos and tests: for every symbol someone subscribes it streams a random
/// walk at the highest mode held (as OpenAlgo's pooled adapters subscribe the highest mode at the
/// broker), with Angel-shaped payloads — LTP, Quote (OHLC, volume, buy/sell quantities) and Depth
/// (5 levels each side) — prices on the NSE 0.05 tick grid, <c>ltt</c>/<c>timestamp</c> in epoch ms.
/// </summary>
internal sealed class SimulatedTickSource(MarketDataHub hub, SiteOptions options, TimeProvider time) : BackgroundService, IMarketDataSource
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);
    private readonly Dictionary<SymbolKey, Instrument> _instruments = [];
    private readonly ArrayBufferWriter<byte> _buffer = new(2048);
    private readonly Random _random = new();
    private long _heartbeats;

    public long Heartbeats => Interlocked.Read(ref _heartbeats);

    public string Name => "simulated feed";
    public long Progress => Heartbeats;
    public string? Status => null;
    public ISubscriptionGateway? Gateway => null;

    public event Action<string>? Changed
    {
        add { }
        remove { }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Step, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Interlocked.Increment(ref _heartbeats);
                Emit();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal void Emit()
    {
        double chance = options.MarketData.SimulatedTicksPerSecond * Step.TotalSeconds;
        foreach (var (key, mode) in hub.ActiveSymbols())
        {
            if (!_instruments.TryGetValue(key, out var instrument))
            {
                instrument = new Instrument(key, _random);
                _instruments[key] = instrument;
            }
            instrument.Credit += chance * (0.5 + _random.NextDouble());
            while (instrument.Credit >= 1)
            {
                instrument.Credit -= 1;
                instrument.Step(_random);
                _buffer.ResetWrittenCount();
                instrument.Write(_buffer, mode, time.GetUtcNow().ToUnixTimeMilliseconds(), _random);
                hub.TraceTick(hub.Publish(key, mode, _buffer.WrittenSpan), key, mode, _buffer.WrittenSpan, "simulated");
            }
        }
    }

    private sealed class Instrument
    {
        private const double TickSize = 0.05;
        private readonly SymbolKey _key;
        private double _ltp;
        private readonly double _open;
        private double _high;
        private double _low;
        private readonly double _close;
        private long _volume;
        private long _oi;
        private double _turnover;
        private long _lastQuantity;

        public double Credit;

        public Instrument(SymbolKey key, Random random)
        {
            _key = key;
            // Stable per symbol, so RELIANCE looks the same across restarts of the demo.
            uint hash = 2166136261;
            foreach (char c in key.Exchange + ":" + key.Symbol) hash = (hash ^ c) * 16777619;
            _close = Round(100 + hash % 490000 / 100.0);
            _open = Round(_close * (1 + (random.NextDouble() - 0.5) * 0.01));
            _ltp = _open;
            _high = _open;
            _low = _open;
            _oi = (hash % 1000) * 750;
        }

        public void Step(Random random)
        {
            double move = (random.NextDouble() - 0.5) * 0.002 * _ltp;
            _ltp = Math.Max(TickSize, Round(_ltp + move));
            _high = Math.Max(_high, _ltp);
            _low = Math.Min(_low, _ltp);
            _lastQuantity = 1 + random.Next(200);
            _volume += _lastQuantity;
            _turnover += _lastQuantity * _ltp;
            _oi = Math.Max(0, _oi + random.Next(-50, 51));
        }

        public void Write(IBufferWriter<byte> w, int mode, long now, Random random)
        {
            w.Write("{\"ltp\": "u8);
            PyJsonWriter.WriteDouble(w, _ltp);
            w.Write(", \"ltt\": "u8);
            PyJsonWriter.WriteInteger(w, now - now % 1000);
            if (mode >= 2)
            {
                w.Write(", \"volume\": "u8);
                PyJsonWriter.WriteInteger(w, _volume);
                Field(w, ", \"open\": "u8, _open);
                Field(w, ", \"high\": "u8, _high);
                Field(w, ", \"low\": "u8, _low);
                Field(w, ", \"close\": "u8, _close);
            }
            if (mode == 2)
            {
                w.Write(", \"last_trade_quantity\": "u8);
                PyJsonWriter.WriteInteger(w, _lastQuantity);
                Field(w, ", \"average_price\": "u8, Math.Round(_turnover / Math.Max(1, _volume), 2));
                w.Write(", \"total_buy_quantity\": "u8);
                PyJsonWriter.WriteInteger(w, _volume / 3 + random.Next(1000));
                w.Write(", \"total_sell_quantity\": "u8);
                PyJsonWriter.WriteInteger(w, _volume / 3 + random.Next(1000));
            }
            if (mode == 3)
            {
                w.Write(", \"last_quantity\": "u8);
                PyJsonWriter.WriteInteger(w, _lastQuantity);
                w.Write(", \"oi\": "u8);
                PyJsonWriter.WriteInteger(w, _oi);
                Field(w, ", \"upper_circuit\": "u8, Round(_close * 1.2));
                Field(w, ", \"lower_circuit\": "u8, Round(_close * 0.8));
                w.Write(", \"depth\": {\"buy\": ["u8);
                Levels(w, -1, random);
                w.Write("], \"sell\": ["u8);
                Levels(w, +1, random);
                w.Write("]}"u8);
            }
            w.Write(", \"symbol\": "u8);
            PyJsonWriter.WriteString(w, _key.Symbol);
            w.Write(", \"exchange\": "u8);
            PyJsonWriter.WriteString(w, _key.Exchange);
            w.Write(", \"mode\": "u8);
            PyJsonWriter.WriteInteger(w, mode);
            w.Write(", \"timestamp\": "u8);
            PyJsonWriter.WriteInteger(w, now);
            w.Write("}"u8);
        }

        private void Levels(IBufferWriter<byte> w, int side, Random random)
        {
            for (int level = 0; level < 5; level++)
            {
                if (level > 0) w.Write(", "u8);
                w.Write("{\"price\": "u8);
                PyJsonWriter.WriteDouble(w, Math.Max(TickSize, Round(_ltp + side * TickSize * (level + 1))));
                w.Write(", \"quantity\": "u8);
                PyJsonWriter.WriteInteger(w, 10 + random.Next(5000));
                w.Write(", \"orders\": "u8);
                PyJsonWriter.WriteInteger(w, 1 + random.Next(40));
                w.Write("}"u8);
            }
        }

        private static void Field(IBufferWriter<byte> w, ReadOnlySpan<byte> name, double value)
        {
            w.Write(name);
            PyJsonWriter.WriteDouble(w, value);
        }

        private static double Round(double price) => Math.Round(Math.Round(price / TickSize) * TickSize, 2);
    }
}
