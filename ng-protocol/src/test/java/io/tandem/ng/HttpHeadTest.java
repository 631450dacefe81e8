package io.tandem.ng;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Test;

/** The HTTP listener's request heads: hand-written malformed cases, and a Jazzer target over any bytes. */
class HttpHeadTest
{
    private static HttpListener.Head head(final String text) throws HttpListener.Refused
    {
        final byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        return HttpListener.head(bytes, WebSocket.headEnd(bytes, bytes.length));
    }

    private static int refused(final String text)
    {
        return assertThrows(HttpListener.Refused.class, () -> head(text)).status();
    }

    @Test
    void aRequestHeadGivesMethodPathLengthAndKeepAlive() throws Exception
    {
        final HttpListener.Head post = head("POST /ng HTTP/1.1\r\nHost: x\r\nContent-Length: 42\r\n\r\n");
        assertEquals("POST", post.method());
        assertEquals("/ng", post.path());
        assertEquals(42, post.length());
        assertTrue(post.keepAlive());
        assertFalse(head("GET /ping HTTP/1.0\r\n\r\n").keepAlive(), "HTTP/1.0 closes unless asked");
        assertTrue(head("GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keepAlive());
        assertFalse(head("GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n").keepAlive());
        assertEquals(0, head("GET /ping HTTP/1.1\r\nno colon here\r\n: no name\r\n\r\n").length(), "odd lines skipped");
    }

    @Test
    void malformedHeadsAreRefusedWithTheirStatus()
    {
        assertEquals(400, refused("\r\n\r\n"), "no request line at all (this threw out of the connection's thread)");
        assertEquals(400, refused("GET /ping\r\n\r\n"));
        assertEquals(400, refused("GET /ping SIP/2.0\r\n\r\n"));
        assertEquals(400, refused("GET  /ping HTTP/1.1\r\n\r\n"), "two spaces: not three words");
        assertEquals(400, refused("POST /ng HTTP/1.1\r\nContent-Length: -5\r\n\r\n"));
        assertEquals(400, refused("POST /ng HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"));
        assertEquals(411, refused("POST /ng HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
    }

    @FuzzTest(maxDuration = "30s")
    void anyHeadIsParsedOrRefused(final FuzzedDataProvider data)
    {
        final byte[] bytes = data.consumeRemainingAsBytes();
        final int end = WebSocket.headEnd(bytes, bytes.length);
        if (end < 0)
        {
            return; // the listener reads on until it has a whole head (or refuses one over 8 KiB)
        }
        try
        {
            final HttpListener.Head head = HttpListener.head(bytes, end);
            assertTrue(head.length() >= 0 && head.method() != null && head.path() != null);
        }
        catch (final HttpListener.Refused ex)
        {
            assertTrue(ex.status() == 400 || ex.status() == 411, "status " + ex.status());
        }
    }
}
