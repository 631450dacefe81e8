package io.tandem.media;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The parties of many calls, run by a failover test inside its client network namespace (where the test's own
 * JVM cannot open sockets): {@link PartyMedia} with each party sending an RTP packet every 20 ms (50 packets/s) to
 * its port on the virtual IP, unless it only listens, noting what it hears from its own call's other party. Driven over stdin:
 * {@code mark} starts a measurement, {@code report} prints, per party, when it last heard before the mark and first
 * after it (System.nanoTime, the same clock as the test's on one host), how many packets since, and of the packets
 * sent within a second after this namespace's neighbour entry for the virtual IP changed (the gratuitous ARP taken)
 * how many it heard and how late the first of them arrived, and how late its last packet before the mark was; {@code switched} prints when the entry changed and how
 * many rounds were sent in that second; {@code stop} ends.
 * <p>
 * The plan file has a line per call: {@code A_PORT B_PORT A_SENDS_TO B_SENDS_TO B_LISTENS_ONLY(0|1)}.
 */
public final class MediaParties
{
    private MediaParties()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final InetAddress local = InetAddress.getByName(args[1]);
        final InetAddress vip = InetAddress.getByName(args[2]);
        final List<DatagramChannel> parties = new ArrayList<>();
        final List<InetSocketAddress> targets = new ArrayList<>();
        final List<Boolean> sends = new ArrayList<>();
        for (final String line : Files.readAllLines(Path.of(args[0])))
        {
            final String[] f = line.trim().split("\\s+");
            if (f.length < 5)
            {
                continue;
            }
            parties.add(open(local, Integer.parseInt(f[0])));
            parties.add(open(local, Integer.parseInt(f[1])));
            targets.add(new InetSocketAddress(vip, Integer.parseInt(f[2])));
            targets.add(new InetSocketAddress(vip, Integer.parseInt(f[3])));
            sends.add(true);
            sends.add(!"1".equals(f[4]));
        }
        final int n = parties.size();
        final AtomicLongArray lastBeforeMark = new AtomicLongArray(n);
        final AtomicLongArray firstAfterMark = new AtomicLongArray(n);
        final AtomicLongArray sinceMark = new AtomicLongArray(n);
        final AtomicLongArray lastLatency = new AtomicLongArray(n);
        final AtomicLongArray latencyAtMark = new AtomicLongArray(n);
        final List<List<long[]>> heardAfterMark = new ArrayList<>();
        for (int p = 0; p < n; p++)
        {
            heardAfterMark.add(new ArrayList<>());
        }
        final PartyMedia media = new PartyMedia(parties, TimeUnit.MILLISECONDS.toNanos(20),
            (p) -> sends.get(p) ? targets.get(p) : null, (p, now, sent) ->
            {
                firstAfterMark.compareAndSet(p, 0, now);
                sinceMark.incrementAndGet(p);
                lastLatency.set(p, now - sent);
                final List<long[]> list = heardAfterMark.get(p);
                synchronized (list)
                {
                    if (list.size() < 2_000)
                    {
                        list.add(new long[] {sent, now});
                    }
                }
            });
        final NeighbourWatch watch = new NeighbourWatch(vip.getHostAddress());

        final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        out.println("ready " + n);
        final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String command;
        while ((command = in.readLine()) != null)
        {
            switch (command.trim())
            {
                case "mark" ->
                {
                    for (int p = 0; p < n; p++)
                    {
                        lastBeforeMark.set(p, media.lastHeard(p));
                        latencyAtMark.set(p, lastLatency.get(p));
                        firstAfterMark.set(p, 0);
                        sinceMark.set(p, 0);
                        synchronized (heardAfterMark.get(p))
                        {
                            heardAfterMark.get(p).clear();
                        }
                    }
                    watch.start();
                    out.println("marked " + System.nanoTime());
                }
                case "report" ->
                {
                    final StringBuilder report = new StringBuilder("report\n");
                    for (int p = 0; p < n; p++)
                    {
                        report.append(p).append(' ').append(sends.get(p ^ 1) ? 1 : 0).append(' ')
                            .append(lastBeforeMark.get(p)).append(' ').append(firstAfterMark.get(p)).append(' ')
                            .append(sinceMark.get(p)).append(' ').append(afterSwitch(heardAfterMark.get(p),
                            watch.switchedAt())).append(' ').append(latencyAtMark.get(p)).append('\n');
                    }
                    out.print(report.append("end\n"));
                    out.flush();
                }
                case "switched" ->
                {
                    final long at = watch.switchedAt();
                    out.println("switched " + at + " " + (at == 0 ? 0 : java.util.Arrays.stream(media.rounds())
                        .filter((r) -> inSecondAfter(r, at)).count()));
                }
                case "stop" ->
                {
                    media.close();
                    return;
                }
                default -> out.println("unknown " + command);
            }
        }
    }

    /** A sending round within the second after the switch: the window in which no packet may be lost. */
    private static boolean inSecondAfter(final long sentNs, final long switchedNs)
    {
        return sentNs - switchedNs > 0 && sentNs - switchedNs <= TimeUnit.SECONDS.toNanos(1);
    }

    /** Of the packets heard, those sent within the second after the switch: "COUNT FIRST_LATENCY_NS" ("0 0" before). */
    private static String afterSwitch(final List<long[]> heard, final long switchedNs)
    {
        if (switchedNs == 0)
        {
            return "0 0";
        }
        long count = 0;
        long firstSent = Long.MAX_VALUE;
        long firstLatency = 0;
        synchronized (heard)
        {
            for (final long[] packet : heard)
            {
                if (inSecondAfter(packet[0], switchedNs))
                {
                    count++;
                    if (packet[0] < firstSent)
                    {
                        firstSent = packet[0];
                        firstLatency = packet[1] - packet[0];
                    }
                }
            }
        }
        return count + " " + firstLatency;
    }

    /**
     * Watches this namespace's neighbour (ARP) entry for the virtual IP from a mark on, every millisecond, and notes
     * when its hardware address changes: when the client took the new holder's gratuitous ARP and sends there.
     */
    private static final class NeighbourWatch
    {
        private final String address;
        private volatile long switchedAt;
        private Thread thread;

        NeighbourWatch(final String address)
        {
            this.address = address;
        }

        synchronized void start()
        {
            if (thread != null)
            {
                thread.interrupt();
            }
            switchedAt = 0;
            final String before = hardwareAddress();
            thread = new Thread(() ->
            {
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                try
                {
                    while (System.nanoTime() - deadline < 0 && !Thread.currentThread().isInterrupted())
                    {
                        final String now = hardwareAddress();
                        if (now != null && !now.equals(before))
                        {
                            switchedAt = System.nanoTime();
                            return;
                        }
                        Thread.sleep(1);
                    }
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }, "neighbour-watch");
            thread.setDaemon(true);
            thread.start();
        }

        long switchedAt()
        {
            return switchedAt;
        }

        /** The address's entry in /proc/net/arp (this namespace's), or null while there is none complete. */
        private String hardwareAddress()
        {
            try
            {
                for (final String line : Files.readAllLines(Path.of("/proc/net/arp")))
                {
                    final String[] f = line.trim().split("\\s+");
                    if (f.length >= 4 && f[0].equals(address) && !"0x0".equals(f[2]))
                    {
                        return f[3];
                    }
                }
                return null;
            }
            catch (final IOException ex)
            {
                return null;
            }
        }
    }

    private static DatagramChannel open(final InetAddress local, final int port) throws IOException
    {
        final DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET);
        channel.bind(new InetSocketAddress(local, port));
        channel.configureBlocking(false);
        return channel;
    }
}
