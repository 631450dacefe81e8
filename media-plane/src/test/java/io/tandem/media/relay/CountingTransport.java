package io.tandem.media.relay;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * A {@link Transport} without sockets: receives nothing and only counts what it is asked to send. For driving the
 * forwarding agent directly, without system calls: the forwarding benchmark measures the agent alone with it,
 * and the packet fuzz test feeds the agent arbitrary datagrams through it.
 */
public final class CountingTransport implements Transport
{
    private long sent;

    /** Packets the agent handed over for sending. */
    public long sent()
    {
        return sent;
    }

    @Override
    public void register(final Endpoint endpoint)
    {
    }

    @Override
    public void close(final Endpoint endpoint)
    {
    }

    @Override
    public int poll(final Receiver receiver)
    {
        return 0;
    }

    @Override
    public int pollBlocking(final Receiver receiver, final long timeoutMs)
    {
        return 0;
    }

    @Override
    public void wakeup()
    {
    }

    @Override
    public boolean send(final Endpoint from, final ByteBuffer packet, final InetSocketAddress to)
    {
        sent++;
        return true;
    }

    @Override
    public void close()
    {
    }
}
