package io.tandem.media.relay;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * How the forwarding agent receives and sends datagrams. Every method runs on the agent thread, except
 * {@link #open} and {@link #wakeup()}. {@link EpollTransport} (the default) makes the Linux calls directly through FFM, with
 * recvmmsg batching; {@link NioTransport} uses a {@link java.nio.channels.Selector}. AF_XDP could follow behind
 * the same interface.
 */
public interface Transport extends AutoCloseable
{
    /** Called for each datagram received; {@code packet} holds it from position 0 to {@code length}. */
    @FunctionalInterface
    interface Receiver
    {
        void onPacket(Endpoint endpoint, ByteBuffer packet, int length, InetSocketAddress source);

        /**
         * Datagrams {@link #send} accepted (returned true for) and then could not send: a transport that batches
         * its sends learns only when it sends the batch, after the receiver counted them as sent.
         */
        default void onSendFailed(final Endpoint from, final int packets, final long bytes)
        {
        }

        /**
         * Called right before each read of a socket, by a transport whose {@link #readsInOrder()} is true: the
         * forwarding agent applies the commands queued so far, so a datagram sent after a command was queued (a
         * party that heard the ng reply) is handed on with that command applied.
         */
        default void beforeReceive()
        {
        }
    }

    /** Whether {@link Receiver#beforeReceive} is called before every read of a socket. */
    default boolean readsInOrder()
    {
        return false;
    }

    /**
     * Open a new endpoint's socket, bound on {@code address} (null: the wildcard) and {@code port} with every media
     * socket's options ({@link MediaSockets}); any thread, before the endpoint is handed to the agent. A transport
     * may also start watching it here (epoll): its datagrams then wake a waiting agent, which takes the endpoint's
     * queued command before reading them, so handing it over needs no wake-up.
     */
    default Endpoint open(final InetAddress address, final int port, final boolean rtcp, final int tos,
        final boolean freebind) throws IOException
    {
        return new Endpoint(MediaSockets.open(address, port, tos, freebind), port, rtcp);
    }

    /** Whether {@link #open} watches the sockets it opens (see there). */
    default boolean watchesOpenedSockets()
    {
        return false;
    }

    /** Start receiving on an endpoint's socket (watched since {@link #open}, or not). */
    void register(Endpoint endpoint) throws IOException;

    /** Stop receiving on an endpoint's socket and close it; the port is free when this returns. */
    void close(Endpoint endpoint);

    /** Receive what is ready, without blocking. @return the number of datagrams handed to the receiver. */
    int poll(Receiver receiver);

    /**
     * Receive what is ready, waiting up to {@code timeoutMs} for something when nothing is, unless
     * {@link #wakeup()} is called. @return the number of datagrams handed to the receiver.
     */
    int pollBlocking(Receiver receiver, long timeoutMs);

    /** Make a blocked {@link #pollBlocking} return now (from any thread). */
    void wakeup();

    /**
     * Send {@code packet} (position to limit) out of {@code from}'s socket, now or, for a datagram just received, with
     * the others of its batch (see {@link Receiver#onSendFailed}). @return false if it was not sent.
     */
    boolean send(Endpoint from, ByteBuffer packet, InetSocketAddress to);

    @Override
    void close();
}
