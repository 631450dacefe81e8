package io.tandem.bench;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.tandem.media.control.Sdp;
import io.tandem.media.control.SdpException;
import io.tandem.media.relay.CpuAffinity;
import io.tandem.ng.NgClient;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;

/**
 * {@code tandem-load}: an end-to-end load and latency harness for any relay that speaks ng (Tandem, rtpengine).
 * It sets up N calls through ng (offer + answer), sends 172-byte G.711 RTP packets through the relay in both
 * directions, evenly paced at a total rate, timestamps each packet with the time it was meant to leave (so a
 * stalled sender shows as latency: coordinated omission corrected), and records one-way latency in an
 * HdrHistogram. Reports sent, received, loss, packets per second and latency percentiles, and writes the
 * histogram log and an HTML plot of the percentile distribution. A closed-loop mode keeps one packet in flight
 * per stream, as real RTP does under a relay's own pace; a flood mode searches the highest rate with loss under
 * 0.1%.
 */
public final class LoadHarness
{
    static final int PACKET = 172;
    /** While behind schedule, the paced generator still receives after this many sends. */
    private static final int RECEIVE_EVERY = 16;
    private static final int HEADER = 12;

    /** One direction of one call: sent from {@code from} to the relay's {@code target}, received on {@code to}. */
    record Stream(int id, DatagramChannel from, InetSocketAddress target, DatagramChannel to)
    {
    }

    private final LoadOptions options;
    private final List<DatagramChannel> channels = new ArrayList<>();
    private final List<Stream> streams = new ArrayList<>();
    private int[] sequences = new int[0];
    private final List<String> callIds = new ArrayList<>();

    LoadHarness(final LoadOptions options)
    {
        this.options = options;
    }

    public static void main(final String[] args) throws Exception
    {
        final LoadOptions options;
        try
        {
            options = LoadOptions.parse(args);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("tandem-load: " + ex.getMessage());
            System.err.print(LoadOptions.USAGE);
            System.exit(2);
            return;
        }
        if (options == null)
        {
            System.out.print(LoadOptions.USAGE);
            return;
        }
        final LoadHarness harness = new LoadHarness(options);
        try
        {
            harness.setUpCalls();
            if (options.flood())
            {
                harness.floodSearch(System.out);
            }
            else
            {
                final LoadResult result = options.closedLoop() ? harness.runClosedLoop() : harness.runPaced(options.rate());
                harness.report(result, System.out);
                harness.writeOutputs(result);
            }
        }
        finally
        {
            harness.tearDown();
        }
    }

    private static String sdp(final String address, final int port)
    {
        return "v=0\r\no=load 1 1 IN IP4 " + address + "\r\ns=tandem-load\r\nc=IN IP4 " + address + "\r\nt=0 0\r\n" +
            "m=audio " + port + " RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n";
    }

    private DatagramChannel open() throws IOException
    {
        final DatagramChannel channel = DatagramChannel.open();
        channel.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20);
        channel.setOption(StandardSocketOptions.SO_SNDBUF, 1 << 20);
        channel.bind(new InetSocketAddress(InetAddress.ofLiteral(options.bind()), 0));
        channel.configureBlocking(false);
        channels.add(channel);
        return channel;
    }

    void setUpCalls() throws IOException, SdpException
    {
        final String run = Long.toString(System.currentTimeMillis(), 36);
        try (NgClient ng = new NgClient(options.ng(), Duration.ofSeconds(2), 5))
        {
            for (int i = 0; i < options.calls(); i++)
            {
                final DatagramChannel a = open();
                final DatagramChannel b = open();
                final String callId = "tandem-load-" + run + "-" + i;
                final Map<String, Object> offer = request("offer", callId);
                offer.put("sdp", sdp(options.bind(), ((InetSocketAddress)a.getLocalAddress()).getPort()));
                final int bSendsTo = port(ng.request(offer));
                final Map<String, Object> answer = request("answer", callId);
                answer.put("to-tag", "b");
                answer.put("sdp", sdp(options.bind(), ((InetSocketAddress)b.getLocalAddress()).getPort()));
                final int aSendsTo = port(ng.request(answer));
                callIds.add(callId);
                final InetAddress relay = options.ng().getAddress();
                streams.add(new Stream(streams.size(), a, new InetSocketAddress(relay, aSendsTo), b));
                streams.add(new Stream(streams.size(), b, new InetSocketAddress(relay, bSendsTo), a));
            }
        }
    }

    private static Map<String, Object> request(final String command, final String callId)
    {
        final Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", command);
        request.put("call-id", callId);
        request.put("from-tag", "a");
        request.put("flags", List.of("trust address"));
        request.put("replace", List.of("origin", "session-connection"));
        return request;
    }

    private static int port(final Map<String, Object> reply) throws IOException, SdpException
    {
        if (!"ok".equals(reply.get("result")))
        {
            throw new IOException("the relay refused a call: " + reply);
        }
        return Sdp.parse((String)reply.get("sdp")).media().get(0).port();
    }

    void tearDown() throws IOException
    {
        try (NgClient ng = new NgClient(options.ng(), Duration.ofSeconds(2), 5))
        {
            for (final String callId : callIds)
            {
                ng.request(request("delete", callId));
            }
        }
        catch (final IOException ex)
        {
            System.err.println("tandem-load: could not delete the calls: " + ex.getMessage());
        }
        for (final DatagramChannel channel : channels)
        {
            channel.close();
        }
    }

    private static void fill(final ByteBuffer packet, final Stream stream, final int sequence, final long stampNs)
    {
        packet.clear();
        packet.put(0, (byte)0x80).put(1, (byte)8).putShort(2, (short)sequence).putInt(4, sequence * 160)
            .putInt(8, stream.id()).putLong(HEADER, stampNs).putInt(HEADER + 8, stream.id());
        packet.limit(PACKET);
    }

    /**
     * The receiving side of a run, polled by the generator's one thread between sends (so a generator pinned to
     * one core does not have two threads fighting over it). Packets stamped in [fromNs, untilNs) are measured,
     * whenever they arrive.
     */
    private final class Receiving implements AutoCloseable
    {
        final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        final Selector selector;
        final ByteBuffer packet = ByteBuffer.allocateDirect(2048);
        final java.util.function.Consumer<SelectionKey> onReady = this::onReady;
        final ClosedLoop closedLoop;
        long received;
        long fromNs = Long.MAX_VALUE;
        long untilNs = Long.MAX_VALUE;
        /** When each stream's last packet arrived (0: none yet), and the longest gap between two, measured. */
        final long[] lastArrivalNs = new long[streams.size()];
        long maxGapNs;

        Receiving(final ClosedLoop closedLoop) throws IOException
        {
            this.closedLoop = closedLoop;
            selector = Selector.open();
            for (final DatagramChannel channel : channels)
            {
                channel.register(selector, SelectionKey.OP_READ);
            }
        }

        /** Receive what is ready, without blocking (or waiting up to {@code waitMs} when it is positive). */
        void poll(final long waitMs) throws IOException
        {
            if (waitMs > 0)
            {
                selector.select(onReady, waitMs);
            }
            else
            {
                selector.selectNow(onReady);
            }
        }

        /**
         * One receive per readable socket and pass: a stream has at most a packet or two waiting, and reading on
         * until the socket is empty would cost a second, empty, system call for nearly every packet.
         */
        private void onReady(final SelectionKey key)
        {
            final DatagramChannel channel = (DatagramChannel)key.channel();
            packet.clear();
            try
            {
                if (channel.receive(packet) == null)
                {
                    return;
                }
            }
            catch (final IOException ex)
            {
                return;
            }
            final long now = System.nanoTime();
            if (packet.position() < HEADER + 12)
            {
                return;
            }
            final long stamp = packet.getLong(HEADER);
            final int stream = packet.getInt(HEADER + 8);
            if (stamp - fromNs >= 0 && stamp - untilNs < 0)
            {
                histogram.recordValue(Math.max(0, now - stamp));
                received++;
                if (stream >= 0 && stream < lastArrivalNs.length && lastArrivalNs[stream] != 0)
                {
                    maxGapNs = Math.max(maxGapNs, now - lastArrivalNs[stream]);
                }
            }
            if (stream >= 0 && stream < lastArrivalNs.length)
            {
                lastArrivalNs[stream] = now;
            }
            if (closedLoop != null)
            {
                closedLoop.next(packet.getInt(HEADER + 8), now);
            }
        }

        @Override
        public void close() throws IOException
        {
            selector.close();
        }
    }

    private void pin()
    {
        if (options.cpu() >= 0)
        {
            CpuAffinity.pinCurrentThread(options.cpu());
        }
    }

    /**
     * Open loop: packets leave evenly spaced at {@code rate}, each stamped with when it was meant to leave; between
     * sends the same thread receives. A bounded busy loop: a benchmark, not a service.
     */
    LoadResult runPaced(final long rate) throws IOException, InterruptedException
    {
        pin();
        final RelayCpu cpu = RelayCpu.of(options.relayPid());
        final long intervalNs = Math.max(1, 1_000_000_000L / rate);
        final ByteBuffer packet = ByteBuffer.allocateDirect(PACKET);
        try (Receiving receiving = new Receiving(null))
        {
            final long start = System.nanoTime();
            final long measureFrom = start + (long)(options.warmup() * 1e9);
            final long end = measureFrom + (long)(options.duration() * 1e9);
            receiving.fromNs = measureFrom;
            receiving.untilNs = end;
            long sent = 0;
            long cpuAtStart = -1;
            long next = start;
            long k = 0;
            int sendsSinceReceive = 0;
            while (next - end < 0)
            {
                if (System.nanoTime() - next < 0)
                {
                    receiving.poll(0);
                    sendsSinceReceive = 0;
                    continue;
                }
                if (++sendsSinceReceive > RECEIVE_EVERY)
                {
                    // Behind schedule: keep receiving anyway, or the generator's own sockets overflow and the
                    // packets the relay did forward are counted as lost.
                    receiving.poll(0);
                    sendsSinceReceive = 0;
                }
                if (cpuAtStart < 0 && next - measureFrom >= 0)
                {
                    cpuAtStart = cpu.ticks();
                }
                final Stream stream = streams.get((int)(k % streams.size()));
                fill(packet, stream, nextSequence(stream.id()), next);
                try
                {
                    stream.from().send(packet, stream.target());
                }
                catch (final IOException ex)
                {
                    // counted as loss: it was meant to be sent
                }
                if (next - measureFrom >= 0)
                {
                    sent++;
                }
                k++;
                next = start + k * intervalNs;
            }
            final long cpuTicks = cpu.ticks() - cpuAtStart;
            final double lagMs = Math.max(0, System.nanoTime() - end) / 1e6;
            final long drainUntil = System.nanoTime() + 500_000_000L; // what is still in flight
            while (System.nanoTime() - drainUntil < 0)
            {
                receiving.poll(1);
            }
            return new LoadResult(sent, receiving.received, options.duration(), receiving.histogram, cpu.seconds(cpuTicks), lagMs,
                receiving.maxGapNs);
        }
    }

    /**
     * The next RTP sequence number of a stream. It carries on across the runs of a flood search, as a real stream's
     * does: a relay that tracks sequence numbers (rtpengine does) drops a stream that starts again from 0 as
     * duplicates.
     */
    private int nextSequence(final int streamId)
    {
        if (sequences.length < streams.size())
        {
            sequences = java.util.Arrays.copyOf(sequences, streams.size());
        }
        return sequences[streamId]++;
    }

    /** Closed loop: each stream sends its next packet when its previous one arrived (or after 100 ms, lost). */
    private final class ClosedLoop
    {
        final ByteBuffer packet = ByteBuffer.allocateDirect(PACKET);
        final long[] lastSentNs = new long[streams.size()];
        long sent;
        long fromNs = Long.MAX_VALUE;
        long untilNs = Long.MAX_VALUE;

        void next(final int streamId, final long now)
        {
            if (streamId < 0 || streamId >= streams.size() || now - untilNs >= 0)
            {
                return;
            }
            final Stream stream = streams.get(streamId);
            fill(packet, stream, nextSequence(streamId), now);
            try
            {
                stream.from().send(packet, stream.target());
            }
            catch (final IOException ignored)
            {
                // the watchdog resends
            }
            lastSentNs[streamId] = now;
            if (now - fromNs >= 0)
            {
                sent++;
            }
        }
    }

    LoadResult runClosedLoop() throws IOException, InterruptedException
    {
        pin();
        final RelayCpu cpu = RelayCpu.of(options.relayPid());
        final ClosedLoop loop = new ClosedLoop();
        try (Receiving receiving = new Receiving(loop))
        {
            final long start = System.nanoTime();
            final long measureFrom = start + (long)(options.warmup() * 1e9);
            final long end = measureFrom + (long)(options.duration() * 1e9);
            loop.fromNs = measureFrom;
            loop.untilNs = end;
            receiving.fromNs = measureFrom;
            receiving.untilNs = end;
            for (int k = 0; k < options.inFlight(); k++)
            {
                for (int s = 0; s < streams.size(); s++)
                {
                    loop.next(s, System.nanoTime());
                }
            }
            long cpuAtStart = -1;
            long nextWatchdog = start;
            while (System.nanoTime() - end < 0)
            {
                receiving.poll(0);
                final long now = System.nanoTime();
                if (cpuAtStart < 0 && now - measureFrom >= 0)
                {
                    cpuAtStart = cpu.ticks();
                }
                if (now - nextWatchdog >= 0)
                {
                    nextWatchdog = now + 10_000_000L;
                    for (int s = 0; s < streams.size(); s++)
                    {
                        if (now - loop.lastSentNs[s] > 100_000_000L)
                        {
                            loop.next(s, now); // lost: restart the stream
                        }
                    }
                }
            }
            final long cpuTicks = cpu.ticks() - cpuAtStart;
            final long drainUntil = System.nanoTime() + 200_000_000L;
            while (System.nanoTime() - drainUntil < 0)
            {
                receiving.poll(1);
            }
            return new LoadResult(loop.sent, receiving.received, options.duration(), receiving.histogram, cpu.seconds(cpuTicks), 0,
                receiving.maxGapNs);
        }
    }

    /**
     * The highest paced rate the relay forwards with loss under 0.1%: double until a run fails, then bisect. A run
     * fails on loss, or when the generator could not keep to its schedule: above that rate the figure would be
     * the generator's, so the search stops there and says so.
     */
    void floodSearch(final PrintStream out) throws IOException, InterruptedException
    {
        long good = 0;
        long low = streams.size() * 50L;
        long high = low;
        long generatorBoundAt = 0;
        // Double until a run fails, then bisect.
        while (true)
        {
            final LoadResult result = runPaced(high);
            printFloodRun(out, high, result);
            if (!result.keptPace())
            {
                generatorBoundAt = high;
            }
            if (result.lossPercent() >= 0.1 || !result.keptPace() || high > 2_000_000)
            {
                break;
            }
            good = high;
            low = high;
            high *= 2;
        }
        for (int i = 0; i < 5 && high - low > low / 20; i++)
        {
            final long mid = (low + high) / 2;
            final LoadResult result = runPaced(mid);
            printFloodRun(out, mid, result);
            if (result.lossPercent() < 0.1 && result.keptPace())
            {
                good = mid;
                low = mid;
            }
            else
            {
                if (!result.keptPace())
                {
                    generatorBoundAt = generatorBoundAt == 0 ? mid : Math.min(generatorBoundAt, mid);
                }
                high = mid;
            }
        }
        out.printf(Locale.ROOT, "%s: highest rate with loss under 0.1%%: %,d packets/s (%d streams)%n",
            options.label(), good, streams.size());
        if (generatorBoundAt > 0)
        {
            out.printf(Locale.ROOT, "  the generator could not keep pace at %,d packets/s: the relay's own limit may be higher%n",
                generatorBoundAt);
        }
    }

    private static void printFloodRun(final PrintStream out, final long rate, final LoadResult result)
    {
        out.printf(Locale.ROOT, "  rate %,9d pps: loss %.3f%%%s%n", rate, result.lossPercent(),
            result.keptPace() ? "" : String.format(Locale.ROOT, ", generator %.0f ms behind", result.lagMs()));
    }

    void report(final LoadResult result, final PrintStream out)
    {
        final Histogram h = result.latency();
        out.printf(Locale.ROOT, "%s: %d calls, %s, %.0f s measured%n", options.label(), options.calls(),
            options.closedLoop() ? (options.inFlight() == 1 ? "closed loop" : "closed loop, " + options.inFlight() +
                " in flight per stream") : String.format(Locale.ROOT, "%,d pps offered", options.rate()),
            result.seconds());
        out.printf(Locale.ROOT, "  sent %,d  received %,d  loss %.3f%%  achieved %,.0f packets/s%n",
            result.sent(), result.received(), result.lossPercent(), result.packetsPerSecond());
        out.printf(Locale.ROOT, "  one-way latency (us): p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  p99.99 %.1f  max %.1f%n",
            us(h.getValueAtPercentile(50)), us(h.getValueAtPercentile(90)), us(h.getValueAtPercentile(99)),
            us(h.getValueAtPercentile(99.9)), us(h.getValueAtPercentile(99.99)), us(h.getMaxValue()));
        out.printf(Locale.ROOT, "  largest gap between two packets of one stream: %.1f ms%n", result.maxGapNs() / 1e6);
        if (!result.keptPace())
        {
            out.printf(Locale.ROOT, "  the generator fell %.0f ms behind its schedule: it, not the relay, limited the rate%n",
                result.lagMs());
        }
        if (result.relayCpuSeconds() >= 0 && result.received() > 0)
        {
            out.printf(Locale.ROOT, "  relay CPU: %.2f s, %.2f us per relayed packet%n", result.relayCpuSeconds(),
                result.relayCpuSeconds() * 1e6 / result.received());
        }
    }

    private static double us(final long nanos)
    {
        return nanos / 1000.0;
    }

    void writeOutputs(final LoadResult result) throws IOException
    {
        try (PrintStream log = new PrintStream(new FileOutputStream(options.histogram()), false, StandardCharsets.UTF_8))
        {
            final HistogramLogWriter writer = new HistogramLogWriter(log);
            writer.outputComment("tandem-load " + options.label() + ", one-way latency in nanoseconds");
            writer.outputLogFormatVersion();
            final long startMs = System.currentTimeMillis() - (long)(result.seconds() * 1000);
            writer.outputStartTime(startMs);
            writer.setBaseTime(startMs);
            writer.outputLegend();
            result.latency().setStartTimeStamp(startMs);
            result.latency().setEndTimeStamp(System.currentTimeMillis());
            writer.outputIntervalHistogram(result.latency());
        }
        Files.writeString(options.plot().toPath(), PercentilePlot.html(options.label(), result.latency()));
        System.out.println("  histogram log: " + options.histogram() + ", plot: " + options.plot());
    }
}
