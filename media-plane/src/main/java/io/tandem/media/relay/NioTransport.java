package io.tandem.media.relay;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.function.Consumer;

import org.agrona.CloseHelper;

/**
 * Datagram I/O with plain NIO: one {@link Selector} tells which sockets are readable, so a pass costs one
 * system call plus one per packet, however many calls are idle. A readable socket is read at most
 * {@link #READS_PER_SOCKET} times per pass: a flooded stream cannot starve the others, and it is never given up
 * on (level-triggered readiness brings it back on the next pass).
 */
public final class NioTransport implements Transport
{
    public static final int READS_PER_SOCKET = 16;

    private final Selector selector;
    private final ByteBuffer buffer;
    private final int maxPacket;
    private final Consumer<SelectionKey> onReady = this::onReady;
    private final Consumer<SelectionKey> ignore = (key) -> { };
    private Receiver receiver;
    private int received;

    /** @param maxPacket the largest datagram accepted; a longer one is handed on with a length above it. */
    public NioTransport(final int maxPacket)
    {
        this.maxPacket = maxPacket;
        buffer = ByteBuffer.allocateDirect(maxPacket + 1);
        try
        {
            selector = Selector.open();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    @Override
    public void register(final Endpoint endpoint) throws IOException
    {
        endpoint.channel.register(selector, SelectionKey.OP_READ, endpoint);
    }

    @Override
    public void close(final Endpoint endpoint)
    {
        final SelectionKey key = endpoint.channel.keyFor(selector);
        if (key != null)
        {
            key.cancel();
        }
        CloseHelper.quietClose(endpoint.channel);
        try
        {
            selector.selectNow(ignore); // flushes the cancelled key, which releases the socket and its port now
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    @Override
    public int poll(final Receiver receiver)
    {
        this.receiver = receiver;
        received = 0;
        try
        {
            selector.selectNow(onReady);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return received;
    }

    @Override
    public int pollBlocking(final Receiver receiver, final long timeoutMs)
    {
        this.receiver = receiver;
        received = 0;
        try
        {
            selector.select(onReady, timeoutMs);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return received;
    }

    @Override
    public void wakeup()
    {
        selector.wakeup();
    }

    private void onReady(final SelectionKey key)
    {
        final Endpoint endpoint = (Endpoint)key.attachment();
        final ByteBuffer buffer = this.buffer;
        for (int i = 0; i < READS_PER_SOCKET; i++)
        {
            buffer.clear();
            final SocketAddress source;
            try
            {
                source = endpoint.channel.receive(buffer);
            }
            catch (final IOException ex)
            {
                return;
            }
            if (source == null)
            {
                return;
            }
            received++;
            final int length = buffer.position();
            buffer.limit(Math.min(length, maxPacket)).position(0);
            receiver.onPacket(endpoint, buffer, length, (InetSocketAddress)source);
        }
    }

    @Override
    public boolean send(final Endpoint from, final ByteBuffer packet, final InetSocketAddress to)
    {
        try
        {
            return from.channel.send(packet, to) > 0;
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    @Override
    public void close()
    {
        CloseHelper.quietClose(selector);
    }
}
