package io.tandem.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

import io.tandem.media.control.Bencode;
import io.tandem.media.control.BencodeException;

/** A small blocking ng client over UDP for the load harness: one request, one reply, with retries. */
final class NgUdpClient implements AutoCloseable
{
    private final DatagramChannel channel;
    private final InetSocketAddress server;
    private final ByteBuffer in = ByteBuffer.allocate(65536);
    private final String cookiePrefix = ProcessHandle.current().pid() + "_" + Long.toString(System.nanoTime(), 36) + "_";
    private long cookies;

    NgUdpClient(final InetSocketAddress server) throws IOException
    {
        this.server = server;
        channel = DatagramChannel.open();
        channel.connect(server);
        channel.socket().setSoTimeout(2000);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> send(final Map<String, Object> request) throws IOException
    {
        final String cookie = cookiePrefix + (++cookies); // unique per client: the relay caches replies by cookie
        final byte[] body = Bencode.encode(request);
        final ByteBuffer out = ByteBuffer.allocate(cookie.length() + 1 + body.length);
        out.put((cookie + " ").getBytes(StandardCharsets.ISO_8859_1)).put(body).flip();
        for (int attempt = 0; attempt < 5; attempt++)
        {
            channel.write(out.duplicate());
            final java.net.DatagramPacket packet = new java.net.DatagramPacket(new byte[65536], 65536);
            try
            {
                channel.socket().receive(packet);
            }
            catch (final java.net.SocketTimeoutException ex)
            {
                continue; // retransmit with the same cookie, as Kamailio does
            }
            final byte[] reply = Arrays.copyOf(packet.getData(), packet.getLength());
            final int space = new String(reply, StandardCharsets.ISO_8859_1).indexOf(' ');
            try
            {
                return (Map<String, Object>)Bencode.decode(reply, space + 1, reply.length - space - 1);
            }
            catch (final BencodeException ex)
            {
                throw new IOException("bad ng reply from " + server + ": " + ex.getMessage());
            }
        }
        throw new IOException("no ng reply from " + server + " after 5 attempts: is the relay running?");
    }

    @Override
    public void close() throws IOException
    {
        channel.close();
    }
}
