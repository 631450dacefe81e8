package io.tandem.ng;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;

/**
 * An ng client over UDP, as Kamailio's rtpengine module is one: a cookie unique to this client and request, a
 * bencoded dictionary, the same cookie again when it retransmits after a timeout (a relay answers a retransmission
 * from its reply cache without running the command twice). Replies to other cookies (late replies to requests
 * given up on) are skipped. One request at a time.
 */
public final class NgClient implements AutoCloseable
{
    private final DatagramChannel channel;
    private final InetSocketAddress server;
    private final int timeoutMs;
    private final int attempts;
    private final String cookiePrefix = ProcessHandle.current().pid() + "_" + Long.toString(System.nanoTime(), 36) + "_";
    private final byte[] received = new byte[65536];
    private long cookies;

    /** A client that waits 3 s for a reply and does not retransmit. */
    public NgClient(final InetSocketAddress server) throws IOException
    {
        this(server, Duration.ofSeconds(3), 1);
    }

    /** @param attempts how many times a request is sent, with the same cookie, before {@link #send} gives up */
    public NgClient(final InetSocketAddress server, final Duration timeout, final int attempts) throws IOException
    {
        if (attempts < 1)
        {
            throw new IllegalArgumentException("attempts must be at least 1");
        }
        this.server = server;
        this.timeoutMs = (int)Math.max(1, timeout.toMillis());
        this.attempts = attempts;
        channel = DatagramChannel.open(server.getAddress() instanceof java.net.Inet6Address ?
            StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        channel.connect(server);
        channel.socket().setSoTimeout(timeoutMs);
    }

    public InetSocketAddress server()
    {
        return server;
    }

    /** Send a request under a fresh cookie. @return the reply, or null if none came after every attempt. */
    public Map<String, Object> send(final Map<String, Object> request) throws IOException
    {
        return send(cookiePrefix + (++cookies), request);
    }

    /** Send a request under a fresh cookie. @return the reply. @throws IOException if none came after every attempt */
    public Map<String, Object> request(final Map<String, Object> request) throws IOException
    {
        final Map<String, Object> reply = send(request);
        if (reply == null)
        {
            throw new IOException("no ng reply from " + server + " after " + attempts + " attempts: is the media node running?");
        }
        return reply;
    }

    /** Send a request under {@code cookie}. @return the reply, or null if none came after every attempt. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> send(final String cookie, final Map<String, Object> request) throws IOException
    {
        final byte[] message = NgDatagram.withCookie(cookie, Bencode.encode(request));
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            final byte[] reply = exchange(message, cookie);
            if (reply != null)
            {
                try
                {
                    final Object body = Bencode.decode(reply, cookie.length() + 1, reply.length - cookie.length() - 1);
                    if (!(body instanceof Map<?, ?>))
                    {
                        throw new IOException("ng reply from " + server + " is not a dictionary");
                    }
                    return (Map<String, Object>)body;
                }
                catch (final BencodeException ex)
                {
                    throw new IOException("bad ng reply from " + server + ": " + ex.getMessage(), ex);
                }
            }
        }
        return null;
    }

    /** Send raw bytes once. @return the first datagram that comes back, or null if none came within the timeout. */
    public byte[] exchange(final byte[] message) throws IOException
    {
        return exchange(message, null);
    }

    /** Send once; wait for a reply carrying {@code cookie} (any reply when null). */
    private byte[] exchange(final byte[] message, final String cookie) throws IOException
    {
        channel.write(ByteBuffer.wrap(message));
        final long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (true)
        {
            final long leftMs = (deadline - System.nanoTime()) / 1_000_000L;
            if (leftMs <= 0)
            {
                return null;
            }
            channel.socket().setSoTimeout((int)leftMs);
            final java.net.DatagramPacket packet = new java.net.DatagramPacket(received, received.length);
            try
            {
                channel.socket().receive(packet);
            }
            catch (final SocketTimeoutException ex)
            {
                return null;
            }
            final byte[] reply = Arrays.copyOf(received, packet.getLength());
            if (cookie == null || carries(reply, cookie))
            {
                return reply;
            }
        }
    }

    private static boolean carries(final byte[] reply, final String cookie)
    {
        final int end = NgDatagram.cookieEnd(reply, reply.length);
        return end == cookie.length() && new String(reply, 0, end, StandardCharsets.ISO_8859_1).equals(cookie);
    }

    @Override
    public void close() throws IOException
    {
        channel.close();
    }
}
