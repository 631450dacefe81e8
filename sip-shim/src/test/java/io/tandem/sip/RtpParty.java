package io.tandem.sip;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One side of many calls' media in a test, run as its own process (in a namespace of its own): a phone's RTP socket
 * that every call's SDP names, sending a PCMA packet each 20 ms to each call's media port (given on stdin) and
 * counting what comes back from each. Commands on stdin, one answer line each on stdout:
 * {@code to HOST PORT...} (where to send), {@code mark} (start counting afresh), {@code report}
 * ({@code heard H of N, gap G ms}: how many of the N ports sent something since the mark, and the longest silence
 * of any port between two of its packets since the mark).
 * <p>
 * {@code RtpParty BIND_ADDRESS PORT}
 */
public final class RtpParty
{
    private record Heard(AtomicLong since, AtomicLong lastNs, AtomicLong longestGapNs)
    {
    }

    private final DatagramChannel channel;
    private final Map<Integer, Heard> heard = new ConcurrentHashMap<>();
    private volatile List<InetSocketAddress> destinations = List.of();

    private RtpParty(final DatagramChannel channel)
    {
        this.channel = channel;
    }

    public static void main(final String[] args) throws Exception
    {
        final DatagramChannel channel = DatagramChannel.open()
            .bind(new InetSocketAddress(args[0], Integer.parseInt(args[1])));
        final RtpParty party = new RtpParty(channel);
        Thread.ofPlatform().daemon().name("rtp-send").start(party::send);
        Thread.ofPlatform().daemon().name("rtp-receive").start(party::receive);
        System.out.println("ready");
        final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null)
        {
            final String[] words = line.trim().split("\\s+");
            switch (words[0])
            {
                case "to" -> party.to(words);
                case "mark" -> party.mark();
                case "report" -> { }
                default -> System.err.println("rtp-party: unknown command " + line);
            }
            System.out.println(party.report());
        }
    }

    private void to(final String[] words)
    {
        final List<InetSocketAddress> list = new ArrayList<>();
        for (int i = 2; i < words.length; i++)
        {
            list.add(new InetSocketAddress(words[1], Integer.parseInt(words[i])));
        }
        destinations = List.copyOf(list);
    }

    /** Count afresh from now; the silence running at the mark counts into the next gap (a failover's, say). */
    private void mark()
    {
        for (final Heard h : heard.values())
        {
            h.since().set(0);
            h.longestGapNs().set(0);
        }
    }

    private String report()
    {
        long gap = 0;
        int count = 0;
        for (final InetSocketAddress destination : destinations)
        {
            final Heard h = heard.get(destination.getPort());
            if (h != null && h.since().get() > 0)
            {
                count++;
                gap = Math.max(gap, h.longestGapNs().get());
            }
            else
            {
                gap = Long.MAX_VALUE;
            }
        }
        return "heard " + count + " of " + destinations.size() + ", gap " +
            (gap == Long.MAX_VALUE ? "-" : Long.toString(TimeUnit.NANOSECONDS.toMillis(gap))) + " ms";
    }

    private void send()
    {
        final ByteBuffer packet = ByteBuffer.allocate(172);
        int sequence = 0;
        long next = System.nanoTime();
        while (true)
        {
            sequence++;
            for (final InetSocketAddress destination : destinations)
            {
                packet.clear();
                packet.put((byte)0x80).put((byte)8).putShort((short)sequence).putInt(sequence * 160)
                    .putInt(destination.getPort());
                packet.position(172).flip();
                try
                {
                    channel.send(packet, destination);
                }
                catch (final Exception ex)
                {
                    // the VIP is moving (no route for a moment): the next round tries again
                }
            }
            next += TimeUnit.MILLISECONDS.toNanos(20);
            final long wait = next - System.nanoTime();
            if (wait > 0)
            {
                try
                {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                catch (final InterruptedException ex)
                {
                    return;
                }
            }
        }
    }

    private void receive()
    {
        final ByteBuffer buffer = ByteBuffer.allocate(2048);
        while (true)
        {
            try
            {
                buffer.clear();
                final InetSocketAddress from = (InetSocketAddress)channel.receive(buffer);
                final long now = System.nanoTime();
                final Heard h = heard.computeIfAbsent(from.getPort(),
                    (port) -> new Heard(new AtomicLong(), new AtomicLong(now), new AtomicLong()));
                h.longestGapNs().accumulateAndGet(now - h.lastNs().getAndSet(now), Math::max);
                h.since().incrementAndGet();
            }
            catch (final Exception ex)
            {
                return;
            }
        }
    }
}
