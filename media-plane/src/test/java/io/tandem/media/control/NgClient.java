package io.tandem.media.control;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/** A test ng client over real UDP, like Kamailio's rtpengine module: cookie, space, bencode. */
final class NgClient implements AutoCloseable
{
    private final DatagramSocket socket;
    private final InetSocketAddress server;
    private int cookies;

    NgClient(final InetSocketAddress server) throws IOException
    {
        this.server = server;
        socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        socket.setSoTimeout(3000);
    }

    /** Send raw bytes; @return the raw reply, or null if none came within the timeout. */
    byte[] exchange(final byte[] message) throws IOException
    {
        socket.send(new DatagramPacket(message, message.length, server));
        final DatagramPacket reply = new DatagramPacket(new byte[65536], 65536);
        try
        {
            socket.receive(reply);
        }
        catch (final SocketTimeoutException ex)
        {
            return null;
        }
        return Arrays.copyOf(reply.getData(), reply.getLength());
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> send(final String cookie, final Map<String, Object> request) throws Exception
    {
        final byte[] body = Bencode.encode(request);
        final byte[] message = new byte[cookie.length() + 1 + body.length];
        System.arraycopy((cookie + " ").getBytes(StandardCharsets.ISO_8859_1), 0, message, 0, cookie.length() + 1);
        System.arraycopy(body, 0, message, cookie.length() + 1, body.length);
        final byte[] reply = exchange(message);
        if (reply == null)
        {
            return null;
        }
        final String text = new String(reply, StandardCharsets.ISO_8859_1);
        if (!text.startsWith(cookie + " "))
        {
            throw new AssertionError("reply does not carry the cookie " + cookie + ": " + text);
        }
        return (Map<String, Object>)Bencode.decode(reply, cookie.length() + 1, reply.length - cookie.length() - 1);
    }

    Map<String, Object> send(final Map<String, Object> request) throws Exception
    {
        return send(ProcessHandle.current().pid() + "_" + (++cookies), request);
    }

    @Override
    public void close()
    {
        socket.close();
    }
}
