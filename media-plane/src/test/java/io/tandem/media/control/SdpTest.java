package io.tandem.media.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Test;

class SdpTest
{
    static final String OFFER = String.join("\r\n",
        "v=0",
        "o=alice 2890844526 2890844526 IN IP4 192.0.2.10",
        "s=call",
        "c=IN IP4 192.0.2.10",
        "t=0 0",
        "a=ice-ufrag:F7gI",
        "m=audio 49170 RTP/AVP 0 8 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=rtcp:49171",
        "a=candidate:1 1 UDP 2130706431 192.0.2.10 49170 typ host",
        "a=sendrecv",
        "m=video 51372 RTP/AVP 96",
        "c=IN IP6 2001:db8::10",
        "a=rtpmap:96 H264/90000",
        "a=rtcp-mux",
        "a=rtcp:51372 IN IP6 2001:db8::10",
        "a=sendonly",
        "") ;

    @Test
    void parsesWhatTheMediaPlaneNeeds() throws Exception
    {
        final Sdp sdp = Sdp.parse(OFFER);
        assertEquals(2, sdp.media().size());
        final Sdp.Media audio = sdp.media().get(0);
        final Sdp.Media video = sdp.media().get(1);
        assertEquals("audio", audio.type());
        assertEquals("RTP/AVP", audio.protocol());
        assertEquals(java.util.List.of("0", "8", "101"), audio.formats());
        assertEquals(new InetSocketAddress("192.0.2.10", 49170), sdp.rtpAddress(audio));
        assertEquals(new InetSocketAddress("192.0.2.10", 49171), sdp.rtcpAddress(audio));
        assertEquals(new InetSocketAddress("2001:db8::10", 51372), sdp.rtpAddress(video));
        assertEquals(new InetSocketAddress("2001:db8::10", 51372), sdp.rtcpAddress(video));
        assertTrue(video.hasAttribute("rtcp-mux"));
        assertEquals("sendrecv", sdp.direction(audio));
        assertEquals("sendonly", sdp.direction(video));
    }

    @Test
    void untouchedSdpComesBackByteForByte() throws Exception
    {
        assertEquals(OFFER, Sdp.parse(OFFER).toString());
        final String mixedEndings = "v=0\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0";
        assertEquals(mixedEndings, Sdp.parse(mixedEndings).toString());
    }

    @Test
    void rewritesAddressesPortsRtcpAndRemovesIce() throws Exception
    {
        final Sdp sdp = Sdp.parse(OFFER);
        sdp.rewriteSessionConnection("203.0.113.5");
        sdp.rewriteMedia(sdp.media().get(0), "203.0.113.5", 30000);
        sdp.rewriteMedia(sdp.media().get(1), "203.0.113.5", 30002);
        sdp.replaceOrigin("203.0.113.5");
        assertEquals(2, sdp.removeIce());
        final String expected = String.join("\r\n",
            "v=0",
            "o=alice 2890844526 2890844526 IN IP4 203.0.113.5",
            "s=call",
            "c=IN IP4 203.0.113.5",
            "t=0 0",
            "m=audio 30000 RTP/AVP 0 8 101",
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-15",
            "a=rtcp:30001",
            "a=sendrecv",
            "m=video 30002 RTP/AVP 96",
            "c=IN IP4 203.0.113.5",
            "a=rtpmap:96 H264/90000",
            "a=rtcp-mux",
            "a=rtcp:30002 IN IP4 203.0.113.5",
            "a=sendonly",
            "");
        assertEquals(expected, sdp.toString());
    }

    @Test
    void aSectionGetsItsOwnConnectionLineOnlyWhenItDiffersFromTheSession() throws Exception
    {
        final Sdp sdp = Sdp.parse(OFFER);
        sdp.rewriteSessionConnection("203.0.113.5");
        sdp.rewriteMedia(sdp.media().get(0), "198.51.100.7", 30000);
        assertTrue(sdp.toString().contains("m=audio 30000 RTP/AVP 0 8 101\r\nc=IN IP4 198.51.100.7\r\n"), sdp.toString());
    }

    @Test
    void payloadTypesCanBeNamedRemovedAddedAndReplaced() throws Exception
    {
        final Sdp sdp = Sdp.parse(OFFER);
        final Sdp.Media audio = sdp.media().get(0);
        assertEquals("PCMU", sdp.codecName(audio, "0"));
        assertEquals("PCMA", sdp.codecName(audio, "8"), "static payload type without rtpmap");
        assertEquals("telephone-event", sdp.codecName(audio, "101"));
        assertNull(sdp.codecName(audio, "97"));
        sdp.removeFormat(audio, "101");
        assertEquals(java.util.List.of("0", "8"), audio.formats());
        assertTrue(!sdp.toString().contains("telephone-event") && !sdp.toString().contains("fmtp:101"), sdp.toString());
        sdp.removeFormat(audio, "0");
        sdp.addFormat(audio, "0", "PCMU/8000", 0);
        assertEquals(java.util.List.of("0", "8"), audio.formats());
        assertTrue(sdp.toString().contains("m=audio 49170 RTP/AVP 0 8\r\n"), sdp.toString());
        assertTrue(sdp.toString().contains("a=rtpmap:0 PCMU/8000"), sdp.toString());
        sdp.replaceFormat(audio, "0", "96", "L16/8000");
        assertEquals(java.util.List.of("96", "8"), audio.formats());
        assertTrue(sdp.toString().contains("a=rtpmap:96 L16/8000"), sdp.toString());
        Sdp.parse(sdp.toString());
    }

    @Test
    void aRejectedStreamKeepsPortZero() throws Exception
    {
        final Sdp sdp = Sdp.parse("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n" +
            "m=audio 0 RTP/AVP 0\r\n");
        assertNull(sdp.rtpAddress(sdp.media().get(0)));
        sdp.rewriteMedia(sdp.media().get(0), "10.9.9.9", 30000);
        assertTrue(sdp.toString().contains("m=audio 0 RTP/AVP 0\r\n"));
    }

    private static String error(final String sdp)
    {
        return assertThrows(SdpException.class, () -> Sdp.parse(sdp)).getMessage();
    }

    @Test
    void malformedSdpIsRejectedNamingTheLine()
    {
        assertEquals("empty SDP", error(""));
        assertEquals("line 1: an SDP body starts with v=0", error("o=- 1 1 IN IP4 1.2.3.4\r\n"));
        assertTrue(error("v=0\r\nthis is not sdp\r\n").startsWith("line 2: not an SDP line"));
        assertTrue(error("v=0\r\n\r\nm=audio 1 RTP/AVP 0\r\n").startsWith("line 2: not an SDP line"));
        assertTrue(error("v=0\r\nm=audio\r\n").startsWith("line 2: m= needs media, port and protocol"));
        assertTrue(error("v=0\r\nm=audio abc RTP/AVP 0\r\n").startsWith("line 2: m= port is not a number"));
        assertTrue(error("v=0\r\nm=audio 70000 RTP/AVP 0\r\n").startsWith("line 2: m= port out of range"));
        assertTrue(error("v=0\r\nc=IN IP4 999.1.1.1\r\n").startsWith("line 2: c= address is not an IP4 address"));
        assertTrue(error("v=0\r\nc=IN IP4 example.com\r\n").startsWith("line 2: c= address is not an IP4 address"));
        assertTrue(error("v=0\r\nc=IN IP6 10.0.0.1\r\n").startsWith("line 2: c= address is not an IP6 address"));
        assertTrue(error("v=0\r\nc=IN IP5 10.0.0.1\r\n").startsWith("line 2: c= must be"));
        assertTrue(error("v=0\r\no=only three fields\r\n").startsWith("line 2: o= needs 6 fields"));
        assertEquals("line 3: a=rtcp needs a port", error("v=0\r\nm=audio 1 RTP/AVP 0\r\na=rtcp\r\n"));
        assertTrue(error("v=0\r\nm=audio 1 RTP/AVP 0\r\na=rtcp:x\r\n").startsWith("line 3: a=rtcp port is not a number"));
        assertTrue(error("v=0\r\nm=audio 1 RTP/AVP 0\r\na=rtcp:5 IN IP4\r\n").startsWith("line 3: a=rtcp must be"));
    }

    @FuzzTest(maxDuration = "30s")
    void anyTextParsesAndComesBackUnchangedOrIsAClearError(final FuzzedDataProvider data)
    {
        final String text = data.consumeRemainingAsAsciiString();
        final Sdp sdp;
        try
        {
            sdp = Sdp.parse(text);
        }
        catch (final SdpException expected)
        {
            return;
        }
        assertEquals(text, sdp.toString(), "what parses comes back byte for byte");
        for (final Sdp.Media m : sdp.media())
        {
            sdp.rtpAddress(m);
            sdp.rtcpAddress(m);
            sdp.rewriteMedia(m, "192.0.2.1", 30000);
            if (!m.formats().isEmpty())
            {
                sdp.codecName(m, m.formats().get(0));
                sdp.replaceFormat(m, m.formats().get(0), "96", "L16/8000");
                sdp.removeFormat(m, m.formats().get(m.formats().size() - 1));
            }
            sdp.addFormat(m, "8", "PCMA/8000", 0);
        }
        sdp.removeIce();
        sdp.replaceOrigin("192.0.2.1");
        try
        {
            Sdp.parse(sdp.toString());
        }
        catch (final SdpException ex)
        {
            throw new AssertionError("a rewritten SDP must parse again: " + ex.getMessage(), ex);
        }
    }
}
