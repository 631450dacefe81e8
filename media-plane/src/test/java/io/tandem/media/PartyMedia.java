package io.tandem.media;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntPredicate;

/**
 * The parties of many calls in a test's own JVM: parties {@code 2i} and {@code 2i + 1} are the two of call i. One
 * thread sends an RTP packet from every sending party at a fixed interval (its index as SSRC) to where
 * {@link Target} says, and notes when each party last heard its own call's other party; a packet from another
 * call is counted as misdelivered. Waits in a selector between rounds.
 */
public final class PartyMedia implements AutoCloseable
{
    /** Where party {@code p} sends now; null: it does not send (it only listens). */
    @FunctionalInterface
    public interface Target
    {
        InetSocketAddress of(int party);
    }

    /** Told of every packet a party receives from its own call's other party: when, and when it was sent. */
    @FunctionalInterface
    public interface Heard
    {
        void heard(int party, long nanoTime, long sentNanoTime);
    }

    private final List<DatagramChannel> parties;
    private final AtomicLongArray heard;
    private final AtomicLong misdelivered = new AtomicLong();
    /** When each round was sent: the last 4,096 (80 s at 50 a second). */
    private final java.util.ArrayDeque<Long> rounds = new java.util.ArrayDeque<>();
    private final Thread thread;
    private volatile boolean running = true;

    public PartyMedia(final List<DatagramChannel> parties, final long everyNs, final Target target) throws IOException
    {
        this(parties, everyNs, target, (party, at, sent) ->
        {
        });
    }

    public PartyMedia(final List<DatagramChannel> parties, final long everyNs, final Target target, final Heard listener)
        throws IOException
    {
        this.parties = new ArrayList<>(parties);
        heard = new AtomicLongArray(parties.size());
        final Selector selector = Selector.open();
        for (int p = 0; p < parties.size(); p++)
        {
            parties.get(p).register(selector, SelectionKey.OP_READ, p);
        }
        thread = new Thread(() -> run(selector, everyNs, target, listener), "party-media");
        thread.setDaemon(true);
        thread.start();
    }

    private void run(final Selector selector, final long everyNs, final Target target, final Heard listener)
    {
        final ByteBuffer packet = ByteBuffer.allocate(172);
        int sequence = 0;
        long nextSend = System.nanoTime();
        try (selector)
        {
            while (running)
            {
                if (System.nanoTime() - nextSend >= 0)
                {
                    sequence++;
                    final long tickNs = System.nanoTime(); // every party of this round sends it, after the header
                    synchronized (rounds)
                    {
                        if (rounds.size() == 4096)
                        {
                            rounds.pollFirst();
                        }
                        rounds.addLast(tickNs);
                    }
                    for (int p = 0; p < parties.size(); p++)
                    {
                        final InetSocketAddress to = target.of(p);
                        if (to != null)
                        {
                            packet.clear();
                            packet.put((byte)0x80).put((byte)0).putShort((short)sequence).putInt(sequence * 160).putInt(p)
                                .putLong(tickNs);
                            packet.position(packet.limit()).flip();
                            parties.get(p).send(packet, to);
                        }
                    }
                    nextSend += everyNs;
                }
                selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextSend - System.nanoTime())));
                for (final SelectionKey key : selector.selectedKeys())
                {
                    final int p = (Integer)key.attachment();
                    packet.clear();
                    while (parties.get(p).receive(packet) != null)
                    {
                        if (packet.getInt(8) == (p ^ 1))
                        {
                            final long now = System.nanoTime();
                            heard.set(p, now);
                            listener.heard(p, now, packet.getLong(12));
                        }
                        else
                        {
                            misdelivered.incrementAndGet();
                        }
                        packet.clear();
                    }
                }
                selector.selectedKeys().clear();
            }
        }
        catch (final IOException ex)
        {
            if (running)
            {
                throw new UncheckedIOException(ex);
            }
        }
    }

    /** When each sending round of the last minute or so began (System.nanoTime), oldest first. */
    public long[] rounds()
    {
        synchronized (rounds)
        {
            return rounds.stream().mapToLong(Long::longValue).toArray();
        }
    }

    /** When a party last heard its own call's other party (System.nanoTime), or 0. */
    public long lastHeard(final int party)
    {
        return heard.get(party);
    }

    /** Packets a party received from another call's party. */
    public long misdelivered()
    {
        return misdelivered.get();
    }

    /**
     * Wait until every party not {@code exempt} has heard its call's other party since {@code sinceNs}.
     * @return when the last of them did (System.nanoTime)
     */
    public long awaitAllHeardSince(final long sinceNs, final IntPredicate exempt, final String what)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true)
        {
            long latest = 0;
            final List<Integer> silent = new ArrayList<>();
            for (int p = 0; p < heard.length(); p++)
            {
                if (exempt.test(p))
                {
                    continue;
                }
                final long at = heard.get(p);
                if (at == 0 || at - sinceNs < 0)
                {
                    silent.add(p);
                }
                else
                {
                    latest = Math.max(latest, at);
                }
            }
            if (silent.isEmpty())
            {
                return latest;
            }
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError(silent.size() + " of " + heard.length() + " parties heard nothing " + what +
                    ", e.g. " + silent.subList(0, Math.min(5, silent.size())));
            }
            Thread.sleep(5);
        }
    }

    @Override
    public void close() throws InterruptedException
    {
        running = false;
        thread.join(5000);
    }
}
