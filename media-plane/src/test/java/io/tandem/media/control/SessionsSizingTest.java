package io.tandem.media.control;

import static io.tandem.media.control.NgServerTest.kamailio;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.tandem.media.MediaPlane;
import io.tandem.media.TestContexts;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 5: the sessions file holds --max-calls calls of the shapes a carrier sees, not only calls of
 * average size: two parties with audio and video, a dozen codecs, and Call-IDs as the user agents in the field make
 * them (UUIDs, hex with host and port, Cisco's, and long ones with a UUID and a full host name). Every call is set
 * up through ng, answered, and must be written, and the file has room for as many again (records twice the size
 * still fit: laid out for 48 + 192 bytes a call, it held 694 of these at --max-calls 600). The record sizes measured
 * are printed.
 */
class SessionsSizingTest
{
    private static final int CALLS = 600;

    @TempDir
    Path dir;

    private MediaPlane plane;

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietClose(plane);
    }

    static String callId(final int i)
    {
        final UUID uuid = new UUID(0x5eed_0000_0000_0000L + i * 0x9E37_79B9L, 0x0123_4567_89ABL * i);
        return switch (i % 4)
        {
            case 0 -> uuid.toString(); // 36: Linphone, FreeSWITCH, Teams without host
            case 1 -> Long.toHexString(uuid.getMostSignificantBits()) + "@10.20.30." + (i % 250) + ":5060"; // Asterisk
            case 2 -> String.format("%08X-%08X-%08X-%08X@192.0.2.%d", i, i * 7, i * 13, i * 31, i % 250); // Cisco
            default -> uuid + "-" + Long.toHexString(uuid.getLeastSignificantBits()) + "@sbc-edge-01.voice.carrier-" +
                "example.net"; // about 100: SBC-generated, B2BUA-prefixed
        };
    }

    private static String sdp(final int port, final String origin)
    {
        return "v=0\r\no=" + origin + " 1733580000 1733580001 IN IP4 198.51.100.7\r\ns=SIP Call\r\n" +
            "c=IN IP4 198.51.100.7\r\nt=0 0\r\n" +
            "m=audio " + port + " RTP/AVP 9 0 8 18 101 96 97 98 3 13\r\n" +
            "a=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:18 G729/8000\r\n" +
            "a=fmtp:18 annexb=no\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n" +
            "a=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1;maxplaybackrate=16000\r\n" +
            "a=rtpmap:97 AMR-WB/16000\r\na=fmtp:97 octet-align=1\r\na=rtpmap:98 AMR/8000\r\na=ptime:20\r\n" +
            "a=sendrecv\r\n" +
            "m=video " + (port + 2) + " RTP/AVP 100 99\r\na=rtpmap:100 H264/90000\r\n" +
            "a=fmtp:100 profile-level-id=42e01f;packetization-mode=1\r\na=rtpmap:99 VP8/90000\r\na=sendrecv\r\n";
    }

    @Test
    void theFileHoldsMaxCallsOfRealisticShapes()
    {
        plane = new MediaPlane(TestContexts.media(dir).maxCalls(CALLS).portRange(30000, 30000 + 16 * CALLS + 99));
        final NgCommands commands = new NgCommands(plane.registry(), 0, 2 * CALLS, 0);
        final int[] sizes = new int[2 * CALLS];
        for (int i = 0; i < 2 * CALLS; i++)
        {
            final String id = callId(i);
            final Map<String, Object> offer = kamailio("offer", id, "as" + Integer.toHexString(i * 7919) + "-1c2f");
            offer.put("sdp", sdp(10000 + 4 * (i % 1000), "Cisco-SIPUA"));
            offer.put("flags", List.of("trust-address"));
            final Map<String, Object> offered = commands.execute(offer);
            assertEquals("ok", offered.get("result"), "offer " + i + ": " + offered);
            final Map<String, Object> answer = kamailio("answer", id, "as" + Integer.toHexString(i * 7919) + "-1c2f");
            answer.put("to-tag", "8f3a" + Integer.toHexString(i * 104729) + "e2b1");
            answer.put("sdp", sdp(14000 + 4 * (i % 1000), "FreeSWITCH"));
            answer.put("flags", List.of("trust-address"));
            assertEquals("ok", commands.execute(answer).get("result"), "answer " + i);
            sizes[i] = plane.registry().storedRecord(id).encode().length + id.getBytes(StandardCharsets.UTF_8).length;
        }
        assertEquals(2 * CALLS, plane.registry().storedCalls(), "every call written");
        assertEquals(0, plane.counters().sessionsFileFull.get());
        Arrays.sort(sizes);
        System.out.printf("sessions sizing: %d calls, key+record bytes min %d, median %d, max %d%n", sizes.length,
            sizes[0], sizes[sizes.length / 2], sizes[sizes.length - 1]);
    }
}
