package io.tandem.ng;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The one ng client against a scripted UDP peer: retransmission under the same cookie, stale replies skipped. */
class NgClientTest
{
    private final DatagramSocket server = newServer();
    private final List<String> cookiesSeen = new ArrayList<>();
    private Thread peer;

    private static DatagramSocket newServer()
    {
        try
        {
            return new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        }
        catch (final IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    @AfterEach
    void tearDown() throws InterruptedException
    {
        server.close();
        if (peer != null)
        {
            peer.join(5000);
        }
    }

    private InetSocketAddress address()
    {
        return (InetSocketAddress)server.getLocalSocketAddress();
    }

    /** Ignore the first request; to the second, first send a reply under another cookie, then the real one. */
    private void answerTheRetransmissionOnly()
    {
        peer = new Thread(() ->
        {
            try
            {
                for (int i = 0; i < 2; i++)
                {
                    final DatagramPacket request = new DatagramPacket(new byte[2048], 2048);
                    server.receive(request);
                    final byte[] bytes = Arrays.copyOf(request.getData(), request.getLength());
                    final String cookie = new String(bytes, 0, NgDatagram.cookieEnd(bytes, bytes.length), StandardCharsets.ISO_8859_1);
                    cookiesSeen.add(cookie);
                    if (i == 1)
                    {
                        reply(request, NgDatagram.withCookie("stale", Bencode.encode(Map.of("result", "stale"))));
                        reply(request, NgDatagram.withCookie(cookie, Bencode.encode(Map.of("result", "pong"))));
                    }
                }
            }
            catch (final IOException ex)
            {
                // closed by tearDown
            }
        });
        peer.start();
    }

    private void reply(final DatagramPacket request, final byte[] reply) throws IOException
    {
        server.send(new DatagramPacket(reply, reply.length, request.getSocketAddress()));
    }

    @Test
    void retransmitsUnderTheSameCookieAndSkipsRepliesToOthers() throws Exception
    {
        answerTheRetransmissionOnly();
        try (NgClient client = new NgClient(address(), Duration.ofMillis(300), 3))
        {
            assertEquals(Map.of("result", "pong"), client.request(Map.of("command", "ping")));
        }
        assertEquals(2, cookiesSeen.size());
        assertEquals(cookiesSeen.get(0), cookiesSeen.get(1), "a retransmission carries the first attempt's cookie");
    }

    @Test
    void noReplyIsNullFromSendAndAClearErrorFromRequest() throws Exception
    {
        try (NgClient client = new NgClient(address(), Duration.ofMillis(100), 2))
        {
            assertNull(client.send(Map.of("command", "ping")));
            final IOException ex = assertThrows(IOException.class, () -> client.request(Map.of("command", "ping")));
            assertEquals("no ng reply from " + address() + " after 2 attempts: is the media node running?", ex.getMessage());
        }
    }
}
