package io.tandem.bench;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.tandem.ng.NgClient;
import org.HdrHistogram.Histogram;

/**
 * {@code tandem-lifecycle}: what a relay's control plane costs per call. Calls go through the ng socket as Kamailio
 * drives them (offer, answer, delete, with real Call-ID shapes and Kamailio's flags), with N calls in flight (one
 * client thread each, each waiting for its reply). Reports calls per second, the latency of each command
 * (HdrHistogram, microseconds) and, with {@code --relay-pid}, the relay process's CPU time per call from /proc.
 */
public final class CallLifecycle
{
    static final String USAGE = """
        Usage: bin/tandem-lifecycle [options]

        Offers, answers and deletes calls through a relay's ng socket (Tandem or rtpengine) and reports the
        relay's control-plane cost: calls per second, each command's latency, and CPU time per call.
          --ng HOST:PORT      the relay's ng socket [127.0.0.1:2223]
          --calls N           calls to run, after the warm-up [5000]
          --warmup N          calls run first, not measured [1000]
          --in-flight N       calls in flight at once (client threads) [1]
          --rate N            start at most N calls per second in all (0: as fast as replies come) [0]
          --relay-pid PID     also report the relay process's CPU time per call
          --label TEXT        name of the relay in the report [the ng address]
        """;

    private static final String[] COMMANDS = {"offer", "answer", "delete"};

    /** What one run measured: latency per command (us), calls, seconds, relay CPU seconds (-1 if unknown). */
    record Result(Histogram[] latency, long calls, double seconds, double relayCpuSeconds, long errors)
    {
    }

    private CallLifecycle()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        String ng = "127.0.0.1:2223";
        int calls = 5000;
        int warmup = 1000;
        int inFlight = 1;
        double rate = 0;
        long pid = -1;
        String label = null;
        for (int i = 0; i < args.length; i++)
        {
            if (args[i].equals("--help") || args[i].equals("-h"))
            {
                System.out.print(USAGE);
                return;
            }
            if (i + 1 >= args.length)
            {
                fail("missing value or unknown option: " + args[i]);
            }
            final String value = args[++i];
            switch (args[i - 1])
            {
                case "--ng" -> ng = value;
                case "--calls" -> calls = Integer.parseInt(value);
                case "--warmup" -> warmup = Integer.parseInt(value);
                case "--in-flight" -> inFlight = Integer.parseInt(value);
                case "--rate" -> rate = Double.parseDouble(value);
                case "--relay-pid" -> pid = Long.parseLong(value);
                case "--label" -> label = value;
                default -> fail("unknown option " + args[i - 1]);
            }
        }
        final int colon = ng.lastIndexOf(':');
        if (colon <= 0 || calls < 1 || inFlight < 1 || inFlight > 256 || warmup < 0 || rate < 0)
        {
            fail("need --ng HOST:PORT, --calls >= 1, --in-flight 1..256, --warmup >= 0, --rate >= 0");
        }
        final InetSocketAddress server =
            new InetSocketAddress(InetAddress.ofLiteral(ng.substring(0, colon)), Integer.parseInt(ng.substring(colon + 1)));
        run(server, warmup, inFlight, rate, -1);
        final Result result = run(server, calls, inFlight, rate, pid);
        report(label == null ? ng : label, inFlight, result, System.out);
    }

    private static void fail(final String why)
    {
        System.err.println("tandem-lifecycle: " + why);
        System.err.print(USAGE);
        System.exit(2);
    }

    /** Run {@code calls} call lifecycles over {@code inFlight} client threads, at most {@code rate} a second (0: no limit). */
    static Result run(final InetSocketAddress server, final int calls, final int inFlight, final double rate,
        final long pid) throws Exception
    {
        final Histogram[] latency = new Histogram[COMMANDS.length];
        for (int c = 0; c < latency.length; c++)
        {
            latency[c] = new Histogram(TimeUnit.SECONDS.toMicros(10), 3);
        }
        final AtomicLong next = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final RelayCpu cpu = RelayCpu.of(pid);
        final List<Thread> threads = new ArrayList<>();
        final long cpuBefore = cpu.ticks();
        final long start = System.nanoTime();
        for (int t = 0; t < inFlight; t++)
        {
            final int client = t;
            final long intervalNs = rate > 0 ? (long)(1e9 * inFlight / rate) : 0;
            threads.add(Thread.ofPlatform().name("lifecycle-" + t).start(() ->
                runClient(server, client, calls, intervalNs, next, latency, errors)));
        }
        for (final Thread thread : threads)
        {
            thread.join();
        }
        final double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(latency, calls, seconds, cpu.seconds(cpu.ticks() - cpuBefore), errors.get());
    }

    private static void runClient(final InetSocketAddress server, final int client, final int calls,
        final long intervalNs, final AtomicLong next, final Histogram[] latency, final AtomicLong errors)
    {
        final int port = 20000 + 4 * client;
        long startAt = System.nanoTime();
        try (NgClient ng = new NgClient(server, Duration.ofSeconds(2), 3))
        {
            for (long n = next.getAndIncrement(); n < calls; n = next.getAndIncrement())
            {
                if (intervalNs > 0)
                {
                    final long waitNs = startAt - System.nanoTime();
                    if (waitNs > 0)
                    {
                        TimeUnit.NANOSECONDS.sleep(waitNs);
                    }
                    startAt += intervalNs;
                }
                final String callId = UUID.randomUUID() + "@192.0.2.10";
                final Map<String, Object>[] requests = lifecycle(callId, port);
                for (int c = 0; c < requests.length; c++)
                {
                    final long sent = System.nanoTime();
                    final Map<String, Object> reply = ng.send(requests[c]);
                    final long us = (System.nanoTime() - sent) / 1_000;
                    synchronized (latency[c])
                    {
                        latency[c].recordValue(Math.min(us, latency[c].getHighestTrackableValue()));
                    }
                    if (!"ok".equals(reply.get("result")))
                    {
                        errors.incrementAndGet();
                    }
                }
            }
        }
        catch (final Exception ex)
        {
            System.err.println("tandem-lifecycle: client " + client + ": " + ex);
            errors.incrementAndGet();
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object>[] lifecycle(final String callId, final int port)
    {
        final Map<String, Object> offer = request("offer", callId);
        offer.put("sdp", sdp("192.0.2.10", port));
        final Map<String, Object> answer = request("answer", callId);
        answer.put("to-tag", "b" + callId.hashCode());
        answer.put("sdp", sdp("192.0.2.20", port + 2));
        final Map<String, Object> delete = request("delete", callId);
        return new Map[] {offer, answer, delete};
    }

    /** As Kamailio's rtpengine module sends it. */
    private static Map<String, Object> request(final String command, final String callId)
    {
        final Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", command);
        request.put("call-id", callId);
        request.put("from-tag", "a" + callId.hashCode());
        request.put("supports", List.of("load limit"));
        request.put("flags", List.of("trust-address"));
        request.put("replace", List.of("origin", "session-connection"));
        request.put("received-from", List.of("IP4", "192.0.2.10"));
        return request;
    }

    private static String sdp(final String address, final int port)
    {
        return "v=0\r\no=- 1 1 IN IP4 " + address + "\r\ns=-\r\nc=IN IP4 " + address + "\r\nt=0 0\r\n" +
            "m=audio " + port + " RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" +
            "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";
    }

    static void report(final String label, final int inFlight, final Result r, final PrintStream out)
    {
        out.printf("relay %s, %d calls in flight: %d calls in %.2f s = %.0f calls/s, %d errors%n", label, inFlight,
            r.calls(), r.seconds(), r.calls() / r.seconds(), r.errors());
        for (int c = 0; c < COMMANDS.length; c++)
        {
            final Histogram h = r.latency()[c];
            out.printf("  %-6s latency us: p50 %d  p90 %d  p99 %d  max %d%n", COMMANDS[c], h.getValueAtPercentile(50),
                h.getValueAtPercentile(90), h.getValueAtPercentile(99), h.getMaxValue());
        }
        if (r.relayCpuSeconds() >= 0)
        {
            out.printf("  relay CPU: %.2f s = %.0f us per call (offer + answer + delete)%n", r.relayCpuSeconds(),
                r.relayCpuSeconds() * 1e6 / r.calls());
        }
    }
}
