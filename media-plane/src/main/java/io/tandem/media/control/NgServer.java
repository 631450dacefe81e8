package io.tandem.media.control;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import io.tandem.media.stats.MediaCounters;
import io.tandem.ng.Bencode;
import io.tandem.ng.NgDatagram;

/**
 * The ng control socket over UDP: {@code <cookie> <bencode dictionary>} in, the same cookie and a bencoded reply
 * out, always to the request's source (each Kamailio worker sends from its own socket). A retransmitted request
 * (same source and cookie within the cache time) gets the cached reply and is not executed again; the cache is
 * bounded in bytes, oldest replies going first. Sources outside the
 * allowed networks are dropped and counted; malformed messages get an error reply when they carry a cookie.
 * One thread, blocking receive: control traffic is small and never on the packet path.
 */
public final class NgServer implements AutoCloseable
{
    public static final int MAX_MESSAGE = 65535;
    /** The largest UDP payload over IPv4 (65,535 less the IP and UDP headers): a larger reply cannot be sent. */
    static final int MAX_DATAGRAM = 65_507;

    private record CachedReply(byte[] reply, long expiresNs)
    {
    }

    private final NgContext ctx;
    private final NgCommands commands;
    private final MediaCounters counters;
    private final DatagramChannel channel;
    private final Thread thread;
    private final ByteBuffer in = ByteBuffer.allocate(MAX_MESSAGE + 1);
    /** Replies by source and cookie, oldest first: a cookie only answers the client that sent it. */
    private final Map<String, CachedReply> replies = new LinkedHashMap<>();
    private long cachedBytes;
    private volatile boolean running = true;

    public NgServer(final NgContext ctx, final NgCommands commands, final MediaCounters counters)
    {
        this.ctx = ctx;
        this.commands = commands;
        this.counters = counters;
        try
        {
            final InetSocketAddress listen = ctx.listenAddress();
            channel = DatagramChannel.open(listen.getAddress() instanceof java.net.Inet6Address ?
                StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
            channel.bind(listen);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot listen for ng on " + ctx.listenAddress() + ": " + ex.getMessage(), ex);
        }
        thread = new Thread(this::run, "tandem-ng");
        thread.setDaemon(true);
        thread.start();
    }

    /** The bound address (the actual port when configured with port 0). */
    public InetSocketAddress localAddress()
    {
        try
        {
            return (InetSocketAddress)channel.getLocalAddress();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    private void run()
    {
        while (running)
        {
            final InetSocketAddress source;
            try
            {
                in.clear();
                source = (InetSocketAddress)channel.receive(in);
            }
            catch (final ClosedChannelException ex)
            {
                return;
            }
            catch (final IOException ex)
            {
                continue;
            }
            in.flip();
            try
            {
                final byte[] reply = handle(source, in);
                if (reply != null)
                {
                    channel.send(ByteBuffer.wrap(reply), source);
                }
            }
            catch (final IOException ex)
            {
                // the client went away; nothing to do
            }
            catch (final RuntimeException ex)
            {
                counters.ngErrors.increment();
                System.err.println("tandem-ng: " + ex);
            }
            finally
            {
                commands.afterReply(); // the reply has gone: now the relay may take the call's changes
            }
        }
    }

    /** @return the reply datagram, or null when nothing should be sent back. */
    byte[] handle(final InetSocketAddress source, final ByteBuffer message)
    {
        if (!ctx.allows(source.getAddress()))
        {
            counters.ngSourceRefused.increment();
            return null;
        }
        final int length = message.remaining();
        final byte[] bytes = new byte[length];
        message.get(bytes);
        final int space = NgDatagram.cookieEnd(bytes, length);
        if (space <= 0)
        {
            counters.ngMalformed.increment(); // no cookie: no way to address a reply
            return null;
        }
        final String cookie = new String(bytes, 0, space, StandardCharsets.ISO_8859_1);
        final String key = source.getAddress().getHostAddress() + " " + source.getPort() + " " + cookie;
        final long now = System.nanoTime();
        expire(now);
        final CachedReply cached = replies.get(key);
        if (cached != null)
        {
            counters.ngRetransmits.increment();
            return cached.reply();
        }
        byte[] encoded = NgMessage.replyBeforeWake(commands, counters, cookie, bytes, space + 1, length > MAX_MESSAGE);
        if (encoded.length > MAX_DATAGRAM)
        {
            // The kernel would refuse to send it and the client would hear nothing: say why instead.
            counters.ngErrors.increment();
            encoded = NgDatagram.withCookie(cookie, Bencode.encode(NgCommands.error("Reply too large for a UDP datagram (" +
                encoded.length + " bytes): ask over ng TCP or WebSocket, or list with a smaller limit")));
        }
        if (encoded.length <= ctx.retransmitCacheBytes())
        {
            while (cachedBytes + encoded.length > ctx.retransmitCacheBytes())
            {
                evictOldest();
            }
            replies.put(key, new CachedReply(encoded, now + ctx.retransmitCacheNs()));
            cachedBytes += encoded.length;
        }
        return encoded;
    }

    /** Bytes of replies cached for retransmissions now (bounded by the context's retransmit-cache-bytes). */
    long cachedBytes()
    {
        return cachedBytes;
    }

    private void evictOldest()
    {
        final Iterator<CachedReply> it = replies.values().iterator();
        cachedBytes -= it.next().reply().length;
        it.remove();
    }

    private void expire(final long now)
    {
        final Iterator<CachedReply> it = replies.values().iterator();
        while (it.hasNext())
        {
            final CachedReply reply = it.next();
            if (now - reply.expiresNs() < 0)
            {
                return; // insertion order: the rest are younger
            }
            cachedBytes -= reply.reply().length;
            it.remove();
        }
    }

    @Override
    public void close()
    {
        running = false;
        try
        {
            channel.close();
            thread.join(5000);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
