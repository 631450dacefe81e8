package io.tandem.ng;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Test;

/** The WebSocket wire: handshakes and frames, well-formed, cut short and malformed. */
class WebSocketTest
{
    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ=="; // RFC 6455's example

    private static byte[] bytes(final String text)
    {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String handshake(final String... extra)
    {
        return "GET /ng HTTP/1.1\r\nHost: tandem\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
            "Sec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n" + String.join("", extra) + "\r\n";
    }

    /** A masked client frame. */
    static byte[] clientFrame(final int first, final byte[] payload, final byte[] mask)
    {
        final int header = payload.length < 126 ? 2 : payload.length < 65536 ? 4 : 10;
        final byte[] out = new byte[header + 4 + payload.length];
        out[0] = (byte)first;
        if (header == 2)
        {
            out[1] = (byte)(0x80 | payload.length);
        }
        else if (header == 4)
        {
            out[1] = (byte)(0x80 | 126);
            out[2] = (byte)(payload.length >>> 8);
            out[3] = (byte)payload.length;
        }
        else
        {
            out[1] = (byte)(0x80 | 127);
            for (int i = 0; i < 8; i++)
            {
                out[2 + i] = (byte)((long)payload.length >>> (56 - 8 * i));
            }
        }
        System.arraycopy(mask, 0, out, header, 4);
        for (int i = 0; i < payload.length; i++)
        {
            out[header + 4 + i] = (byte)(payload[i] ^ mask[i & 3]);
        }
        return out;
    }

    @Test
    void acceptsAnOpeningHandshakeAndAnswersWithRfc6455sExampleKey() throws Exception
    {
        final byte[] head = bytes(handshake("Sec-WebSocket-Protocol: chat, ng.rtpengine.com\r\n") + "extra");
        final int end = WebSocket.headEnd(head, head.length);
        assertEquals(head.length - 5, end);
        final WebSocket.Handshake parsed = WebSocket.parseHandshake(head, end);
        assertEquals("/ng", parsed.path());
        assertArrayEquals(new String[] {"chat", "ng.rtpengine.com"}, parsed.protocols());
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocket.accept(parsed.key()));
        assertEquals(-1, WebSocket.headEnd(head, 20), "not all arrived");
    }

    @Test
    void rejectsHandshakesThatAreNotWebSocketUpgrades()
    {
        final String[] bad = {
            "POST /ng HTTP/1.1\r\n\r\n",
            "GET /ng\r\n\r\n",
            handshake().replace("Upgrade: websocket", "Upgrade: h2c"),
            handshake().replace("keep-alive, Upgrade", "keep-alive"),
            handshake().replace("Version: 13", "Version: 8"),
            handshake().replace(KEY, "not base64!"),
            handshake().replace(KEY, "c2hvcnQ="),
            "GET /ng HTTP/1.1\r\nno colon here\r\n\r\n",
        };
        for (final String text : bad)
        {
            final byte[] head = bytes(text);
            assertThrows(WebSocketException.class, () -> WebSocket.parseHandshake(head, head.length), text);
        }
    }

    @Test
    void readsMaskedFramesOfEveryLengthEncoding() throws Exception
    {
        final byte[] mask = {1, 2, 3, 4};
        for (final int length : new int[] {0, 5, 125, 126, 1000, 65535, 65536})
        {
            final byte[] payload = new byte[length];
            Arrays.fill(payload, (byte)'x');
            final byte[] wire = clientFrame(0x80 | WebSocket.BINARY, payload, mask);
            final WebSocket.Frame frame = WebSocket.parseFrame(wire, wire.length, 70_000);
            assertTrue(frame.fin());
            assertEquals(WebSocket.BINARY, frame.opcode());
            assertArrayEquals(payload, frame.payload(), "length " + length);
            assertEquals(wire.length, frame.length());
            for (int cut = 0; cut < Math.min(wire.length, 20); cut++)
            {
                assertNull(WebSocket.parseFrame(wire, cut, 70_000), "cut at " + cut);
            }
        }
    }

    @Test
    void rejectsFramesThatBreakTheProtocol()
    {
        final byte[] mask = {9, 9, 9, 9};
        final byte[][] bad = {
            {(byte)0x81, 0x05, 'h', 'e', 'l', 'l', 'o'},                                  // not masked
            clientFrame(0xC1, new byte[1], mask),                                          // reserved bit
            clientFrame(0x83, new byte[1], mask),                                          // opcode 3
            clientFrame(0x09, new byte[1], mask),                                          // fragmented ping
            clientFrame(0x89, new byte[126], mask),                                        // ping over 125 bytes
            clientFrame(0x82, new byte[2000], mask),                                       // over the limit below
            {(byte)0x82, (byte)0xFF, (byte)0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4},         // length's top bit
        };
        for (final byte[] frame : bad)
        {
            assertThrows(WebSocketException.class, () -> WebSocket.parseFrame(frame, frame.length, 1000),
                Arrays.toString(Arrays.copyOf(frame, 4)));
        }
    }

    @Test
    void writesServerFramesUnmasked()
    {
        assertArrayEquals(new byte[] {(byte)0x81, 2, 'o', 'k'}, WebSocket.frame(WebSocket.TEXT, bytes("ok")));
        final byte[] big = WebSocket.frame(WebSocket.BINARY, new byte[300]);
        assertEquals(126, big[1]);
        assertEquals(300, (big[2] & 0xff) << 8 | (big[3] & 0xff));
        assertArrayEquals(new byte[] {(byte)0x88, 2, 0x03, (byte)0xEA}, WebSocket.close(1002));
    }

    @FuzzTest(maxDuration = "30s")
    void anyBytesAreAFrameAHandshakeOrAClearError(final FuzzedDataProvider data)
    {
        final byte[] bytes = data.consumeRemainingAsBytes();
        try
        {
            final WebSocket.Frame frame = WebSocket.parseFrame(bytes, bytes.length, 4096);
            if (frame != null)
            {
                assertTrue(frame.length() <= bytes.length && frame.payload().length <= 4096);
            }
        }
        catch (final WebSocketException expected)
        {
            // a clear reason
        }
        final int end = WebSocket.headEnd(bytes, bytes.length);
        try
        {
            WebSocket.parseHandshake(bytes, end < 0 ? bytes.length : end);
        }
        catch (final WebSocketException expected)
        {
            // a clear reason
        }
    }
}
