package io.tandem.bench;

import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/** {@code tandem-load}'s command line: what to load, how hard, for how long, and where to write the results. */
record LoadOptions(InetSocketAddress ng, String bind, int calls, long rate, double duration, double warmup,
    boolean closedLoop, int inFlight, boolean flood, int cpu, File histogram, File plot, String label, long relayPid)
{
    static final String USAGE = """
        Usage: bin/tandem-load [options]

        Sets up calls through a relay's ng socket, sends RTP through it both ways and reports loss and
        one-way latency. The relay must be running (bin/tandem, or rtpengine).
          --ng HOST:PORT        the relay's ng socket [127.0.0.1:2223]
          --bind ADDRESS        local address of the test endpoints [127.0.0.1]
          --calls N             calls to set up [500]
          --rate PPS            total packets per second, both directions [calls x 2 x 50]
          --duration SECONDS    measured time [10]
          --warmup SECONDS      unmeasured time first [2]
          --closed-loop         one packet in flight per stream instead of a paced rate
          --in-flight N         with --closed-loop: N packets in flight per stream, a deeper flood than
                                real RTP makes (batched I/O shows there) [1]
          --flood               search the highest rate with loss under 0.1% (short runs)
          --cpu N               pin the generator's threads to CPU N
          --histogram FILE      HdrHistogram log to write [tandem-load.hlog]
          --plot FILE           HTML plot of the latency percentiles [tandem-load.html]
          --label TEXT          name of the relay in the report [the ng address]
          --relay-pid PID       also report the relay process's CPU time per relayed packet
        """;

    /** @return the options, or null when help was asked for */
    static LoadOptions parse(final String[] args)
    {
        String ng = "127.0.0.1:2223";
        String bind = "127.0.0.1";
        int calls = 500;
        long rate = -1;
        double duration = 10;
        double warmup = 2;
        boolean closedLoop = false;
        int inFlight = 1;
        boolean flood = false;
        int cpu = -1;
        File histogram = new File("tandem-load.hlog");
        File plot = new File("tandem-load.html");
        String label = null;
        long relayPid = -1;
        for (int i = 0; i < args.length; i++)
        {
            final String option = args[i];
            switch (option)
            {
                case "--help", "-h" ->
                {
                    return null;
                }
                case "--closed-loop" -> closedLoop = true;
                case "--flood" -> flood = true;
                default ->
                {
                    if (i + 1 >= args.length)
                    {
                        throw new IllegalArgumentException("unknown option or missing value: " + option);
                    }
                    final String value = args[++i];
                    switch (option)
                    {
                        case "--ng" -> ng = value;
                        case "--bind" -> bind = value;
                        case "--calls" -> calls = Integer.parseInt(value);
                        case "--rate" -> rate = Long.parseLong(value);
                        case "--duration" -> duration = Double.parseDouble(value);
                        case "--warmup" -> warmup = Double.parseDouble(value);
                        case "--cpu" -> cpu = Integer.parseInt(value);
                        case "--histogram" -> histogram = new File(value);
                        case "--plot" -> plot = new File(value);
                        case "--label" -> label = value;
                        case "--relay-pid" -> relayPid = Long.parseLong(value);
                        case "--in-flight" -> inFlight = Integer.parseInt(value);
                        default -> throw new IllegalArgumentException("unknown option " + option);
                    }
                }
            }
        }
        final int colon = ng.lastIndexOf(':');
        if (colon <= 0 || calls < 1 || duration <= 0 || inFlight < 1 || inFlight > 64)
        {
            throw new IllegalArgumentException("need --ng HOST:PORT, --calls >= 1, --duration > 0 and --in-flight 1..64");
        }
        final InetSocketAddress ngAddress =
            new InetSocketAddress(InetAddress.ofLiteral(ng.substring(0, colon)), Integer.parseInt(ng.substring(colon + 1)));
        return new LoadOptions(ngAddress, bind, calls, rate > 0 ? rate : calls * 2L * 50, duration, warmup, closedLoop,
            inFlight, flood, cpu, histogram, plot, label == null ? ng : label, relayPid);
    }
}
