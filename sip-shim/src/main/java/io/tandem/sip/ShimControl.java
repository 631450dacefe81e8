package io.tandem.sip;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.tandem.ng.Bencode;
import io.tandem.ng.BencodeException;
import io.tandem.ng.NgDatagram;

/**
 * The shim's control socket, on loopback: the few ng commands keepalived's scripts send through {@code tandemctl},
 * so one tool and one notify script drive the media plane and the shim alike. {@code ping} answers {@code pong}
 * (the track script's health check); {@code tandem-role} reports the role and the calls held, and with a
 * {@code role} of {@code active} or {@code standby} promotes or demotes the node's journal first (the notify
 * script); {@code statistics} reports the shim's counters. Anything else is answered with an ng error and counted.
 */
final class ShimControl implements AutoCloseable
{
    /**
     * How long a promote or demote is given to show before the reply goes (it names the role asked for either way, as
     * the media plane's does: the journal changes role on its own thread); well inside tandemctl's timeout.
     */
    private static final long ROLE_WAIT_MS = 500;

    private final SipShim shim;
    private final DatagramSocket socket;
    private final Thread thread;
    private final AtomicLong errors = new AtomicLong();

    ShimControl(final SipShim shim, final InetSocketAddress listen) throws SocketException
    {
        this.shim = shim;
        socket = new DatagramSocket(listen);
        thread = Thread.ofPlatform().name("tandem-sip-control").daemon().start(this::serve);
    }

    InetSocketAddress address()
    {
        return (InetSocketAddress)socket.getLocalSocketAddress();
    }

    /** Requests answered with an error (malformed, unknown command, bad role). */
    long errors()
    {
        return errors.get();
    }

    private void serve()
    {
        final byte[] buffer = new byte[4096];
        final DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        while (!socket.isClosed())
        {
            try
            {
                packet.setLength(buffer.length);
                socket.receive(packet);
                final byte[] reply = answer(Arrays.copyOf(buffer, packet.getLength()));
                if (reply != null)
                {
                    socket.send(new DatagramPacket(reply, reply.length, packet.getSocketAddress()));
                }
            }
            catch (final IOException ex)
            {
                if (!socket.isClosed())
                {
                    System.err.println("tandem-sip: control socket: " + ex);
                }
            }
        }
    }

    /** The reply datagram to one request datagram, or null when it has no cookie to answer by (dropped, counted). */
    byte[] answer(final byte[] datagram)
    {
        final int space = NgDatagram.cookieEnd(datagram, datagram.length);
        if (space <= 0)
        {
            errors.incrementAndGet();
            return null;
        }
        final String cookie = new String(datagram, 0, space, StandardCharsets.ISO_8859_1);
        Map<String, Object> reply;
        try
        {
            final Object request = Bencode.decode(datagram, space + 1, datagram.length - space - 1);
            reply = request instanceof Map<?, ?> map ? execute(map) : error("the request is not a dictionary");
        }
        catch (final BencodeException ex)
        {
            reply = error("Malformed message: " + ex.getMessage());
        }
        if (!"ok".equals(reply.get("result")) && !"pong".equals(reply.get("result")))
        {
            errors.incrementAndGet();
        }
        return NgDatagram.withCookie(cookie, Bencode.encode(reply));
    }

    private Map<String, Object> execute(final Map<?, ?> request)
    {
        final String command = text(request.get("command"));
        if (command == null)
        {
            return error("No command given");
        }
        return switch (command)
        {
            case "ping" -> Map.of("result", "pong");
            case "tandem-role" -> role(text(request.get("role")), request.containsKey("role"));
            case "statistics" -> statistics();
            default -> error("Unrecognized command '" + command + "'");
        };
    }

    private Map<String, Object> role(final String wanted, final boolean given)
    {
        final CallInfoStore calls = shim.calls();
        if (given)
        {
            if ("active".equals(wanted))
            {
                calls.promote();
            }
            else if ("standby".equals(wanted))
            {
                calls.demote();
            }
            else
            {
                return error("role is active or standby, not '" + wanted + "'");
            }
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ROLE_WAIT_MS);
            while (calls.active() != "active".equals(wanted) && System.nanoTime() < deadline)
            {
                try
                {
                    Thread.sleep(1);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        final Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("result", "ok");
        reply.put("role", given ? wanted : calls.active() ? "active" : "standby");
        reply.put("calls", (long)calls.size());
        return reply;
    }

    private Map<String, Object> statistics()
    {
        final Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("result", "ok");
        reply.put("calls", (long)shim.calls().size());
        reply.put("calls-expired", shim.calls().expired());
        reply.put("call-info-refused", shim.calls().refused());
        reply.put("call-info-unrecorded", shim.calls().unrecorded());
        reply.put("relayed-without-transaction", shim.relayedWithoutTransaction());
        reply.put("malformed", shim.malformed());
        reply.put("control-errors", errors.get());
        return reply;
    }

    private static String text(final Object value)
    {
        return value instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) :
            value instanceof String string ? string : null;
    }

    private static Map<String, Object> error(final String reason)
    {
        final Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("result", "error");
        reply.put("error-reason", reason);
        return reply;
    }

    @Override
    public void close()
    {
        socket.close();
        try
        {
            thread.join(1_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
