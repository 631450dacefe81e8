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
 * after it (System.nanoTime, the same clock as the test's on one host) and how many packets since; {@code stop} ends.
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
        final PartyMedia media = new PartyMedia(parties, TimeUnit.MILLISECONDS.toNanos(20),
            (p) -> sends.get(p) ? targets.get(p) : null, (p, now) ->
            {
                firstAfterMark.compareAndSet(p, 0, now);
                sinceMark.incrementAndGet(p);
            });

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
                        firstAfterMark.set(p, 0);
                        sinceMark.set(p, 0);
                    }
                    out.println("marked " + System.nanoTime());
                }
                case "report" ->
                {
                    final StringBuilder report = new StringBuilder("report\n");
                    for (int p = 0; p < n; p++)
                    {
                        report.append(p).append(' ').append(sends.get(p ^ 1) ? 1 : 0).append(' ')
                            .append(lastBeforeMark.get(p)).append(' ').append(firstAfterMark.get(p)).append(' ')
                            .append(sinceMark.get(p)).append('\n');
                    }
                    out.print(report.append("end\n"));
                    out.flush();
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

    private static DatagramChannel open(final InetAddress local, final int port) throws IOException
    {
        final DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET);
        channel.bind(new InetSocketAddress(local, port));
        channel.configureBlocking(false);
        return channel;
    }
}
