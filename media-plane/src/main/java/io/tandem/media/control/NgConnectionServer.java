package io.tandem.media.control;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.tandem.media.stats.MediaCounters;
import io.tandem.ng.WebSocket;

/**
 * What the connection-oriented listeners (ng over TCP and WebSocket, HTTP) share: a listening socket, an acceptor
 * that drops sources outside the ng access list (unless the listener checks per request) and connections beyond the
 * maximum (both counted), one virtual thread per accepted connection, a time limit on completing a begun message,
 * and a close that ends them all. Subclasses say how a connection is served.
 */
abstract class NgConnectionServer implements AutoCloseable
{
    protected final NgContext ctx;
    protected final NgCommands commands;
    protected final MediaCounters counters;
    private final ServerSocket server;
    private final String name;
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    /** Whether sources outside the ng access list may connect (HTTP: /metrics is for anyone who can reach it). */
    private final boolean anySource;
    protected volatile boolean running = true;

    NgConnectionServer(
        final NgContext ctx,
        final NgCommands commands,
        final MediaCounters counters,
        final InetSocketAddress listen,
        final String name)
    {
        this(ctx, commands, counters, listen, name, false);
    }

    NgConnectionServer(
        final NgContext ctx,
        final NgCommands commands,
        final MediaCounters counters,
        final InetSocketAddress listen,
        final String name,
        final boolean anySource)
    {
        this.ctx = ctx;
        this.commands = commands;
        this.counters = counters;
        this.name = name;
        this.anySource = anySource;
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
     * (a read that waits longer throws {@link SocketTimeoutException}, and the connection is closed and counted);
     * between messages, no limit.
     */
    protected final void readTimeout(final Socket socket, final boolean partial) throws IOException
    {
        socket.setSoTimeout(partial ? ctx.partialMessageTimeoutMs() : 0);
    }

    /** Connections open now (for tests and tools). */
    int openConnections()
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
            if (!anySource && !ctx.allows(source.getAddress()))
            {
                counters.ngSourceRefused.increment();
                closeQuietly(socket);
                continue;
            }
            if (connections.size() >= ctx.maxConnections())
            {
                counters.ngConnectionsRefused.increment(); // each holds a thread and a buffer: bounded
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
                    counters.ngConnectionsTimedOut.increment(); // a message begun and never completed
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
