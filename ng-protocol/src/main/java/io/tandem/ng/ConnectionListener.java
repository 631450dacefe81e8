package io.tandem.ng;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * What a TCP listener facing the network needs before it serves anything (ng over TCP and WebSocket, HTTP for ng and
 * for metrics, in the media plane and the SIP shim alike): an acceptor that drops sources it does not accept and
 * connections beyond its maximum (both reported to {@link Events}), one virtual thread per accepted connection, a
 * time limit on completing a begun message, and a close that ends every connection. Subclasses say how a connection
 * is served.
 */
public abstract class ConnectionListener implements AutoCloseable
{
    /**
     * @param maxConnections connections open at once; more are closed at once (each holds a thread and a buffer)
     * @param partialMessageTimeoutMs a message begun must be complete within this (slowloris)
     * @param idleTimeoutMs a keep-alive connection idle between messages this long is closed (HTTP)
     */
    public record Limits(int maxConnections, int partialMessageTimeoutMs, int idleTimeoutMs)
    {
        public Limits
        {
            if (maxConnections < 1 || partialMessageTimeoutMs < 1 || idleTimeoutMs < 1)
            {
                throw new IllegalArgumentException("connection limits must be positive: " + maxConnections + ", " +
                    partialMessageTimeoutMs + " ms, " + idleTimeoutMs + " ms");
            }
        }
    }

    /** What a listener reports, for the host's counters. Each is called on a connection's or the acceptor's thread. */
    public interface Events
    {
        /** A source the listener does not accept connected (or, checked per request, asked) and was refused. */
        void sourceRefused();

        /** A connection beyond the maximum was closed at once. */
        void connectionRefused();

        /** A message was begun and not completed in time; its connection was closed. */
        void timedOut();

        /** A message was malformed (for HTTP: a head or body refused with a 4xx). */
        void malformed();
    }

    protected final Limits limits;
    protected final Events events;
    private final ServerSocket server;
    private final String name;
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private final Predicate<InetAddress> accepts;
    protected volatile boolean running = true;

    /**
     * Bind {@code listen}; accepting starts with {@link #start}.
     *
     * @param accepts which sources may connect (all, when a listener checks per request)
     */
    protected ConnectionListener(final InetSocketAddress listen, final String name, final Limits limits,
        final Predicate<InetAddress> accepts, final Events events)
    {
        this.limits = limits;
        this.events = events;
        this.name = name;
        this.accepts = accepts;
        try
        {
            server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(listen);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot listen for " + name + " on " + listen + ": " + ex.getMessage(), ex);
        }
    }

    /** Start accepting; called by a subclass once it is fully built. */
    protected final void start()
    {
        Thread.ofVirtual().name(name).start(this::accept);
    }

    public InetSocketAddress localAddress()
    {
        return (InetSocketAddress)server.getLocalSocketAddress();
    }

    /** Serve one accepted, allowed connection until it ends; the socket is closed afterwards either way. */
    protected abstract void serve(Socket socket) throws IOException;

    /**
     * Before each read: with part of a message buffered, the rest must come within the partial-message timeout
     * (a read that waits longer throws {@link SocketTimeoutException}, and the connection is closed and reported);
     * between messages, no limit.
     */
    protected final void readTimeout(final Socket socket, final boolean partial) throws IOException
    {
        socket.setSoTimeout(partial ? limits.partialMessageTimeoutMs() : 0);
    }

    /** Connections open now (for tests and tools). */
    public int openConnections()
    {
        return connections.size();
    }

    private void accept()
    {
        while (running)
        {
            final Socket socket;
            try
            {
                socket = server.accept();
            }
            catch (final IOException ex)
            {
                return;
            }
            final InetSocketAddress source = (InetSocketAddress)socket.getRemoteSocketAddress();
            if (!accepts.test(source.getAddress()))
            {
                events.sourceRefused();
                closeQuietly(socket);
                continue;
            }
            if (connections.size() >= limits.maxConnections())
            {
                events.connectionRefused();
                closeQuietly(socket);
                continue;
            }
            connections.add(socket);
            Thread.ofVirtual().name(name + "-" + source).start(() ->
            {
                try (socket)
                {
                    serve(socket);
                }
                catch (final SocketTimeoutException ex)
                {
                    events.timedOut();
                }
                catch (final IOException ex)
                {
                    // the connection failed or was closed; the client reconnects
                }
                finally
                {
                    connections.remove(socket);
                }
            });
        }
    }

    private static void closeQuietly(final AutoCloseable closeable)
    {
        try
        {
            closeable.close();
        }
        catch (final Exception ignored)
        {
            // closing anyway
        }
    }

    @Override
    public void close()
    {
        running = false;
        closeQuietly(server);
        for (final Socket socket : connections)
        {
            closeQuietly(socket);
        }
    }
}
