package io.tandem.media.control;

import static io.tandem.media.control.NgServerTest.kamailio;
import static io.tandem.media.control.NgServerTest.sdp;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;

import io.tandem.media.MediaPlane;
import io.tandem.media.TestContexts;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ng signalling an attacker on a carrier edge could send from an allowed source (issue 17): each is answered
 * with a clear error, and leaves no port, call or record behind.
 */
class HostileSignallingTest
{
    @TempDir
    Path dir;

    private MediaPlane plane;
    private NgCommands commands;

    @BeforeEach
    void setUp()
    {
        plane = new MediaPlane(TestContexts.media(dir).portRange(23000, 23999));
        commands = new NgCommands(plane.registry(), 0, plane.context().maxCalls(), 0);
    }

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietClose(plane);
    }

    private Map<String, Object> offer(final String callId, final String fromTag, final String body)
    {
        final Map<String, Object> request = kamailio("offer", callId, fromTag);
        request.put("sdp", body);
        return commands.execute(request);
    }

    private void assertNothingLeft()
    {
        assertEquals(0, plane.registry().callCount(), "no call left");
        assertEquals(plane.registry().ports().capacity(), plane.registry().ports().available(), "no port left");
        assertEquals(0, plane.counters().portsInUse.get());
        assertEquals(0, plane.registry().storedCalls(), "no record left");
        assertEquals(0, plane.registry().publishedEndpoints(), "no socket left with the relay");
    }

    @Test
    void anOfferWithAnEmptyFromTagIsRefused()
    {
        final Map<String, Object> reply = offer("empty-tag", "", sdp(6000, "x"));
        assertEquals("error", reply.get("result"));
        assertEquals("Invalid from-tag: empty", reply.get("error-reason"));
        commands.execute(kamailio("delete", "empty-tag", ""));
        assertNothingLeft();
    }

    @Test
    void anAnswerWhoseToTagIsTheFromTagIsRefusedAndTheCallEndsWhole()
    {
        assertEquals("ok", offer("same-tags", "a", sdp(6000, "x")).get("result"));
        final Map<String, Object> answer = kamailio("answer", "same-tags", "a");
        answer.put("to-tag", "a");
        answer.put("sdp", sdp(6002, "x"));
        final Map<String, Object> reply = commands.execute(answer);
        assertEquals("Invalid to-tag: the same as the from-tag", reply.get("error-reason"));
        assertEquals("ok", commands.execute(kamailio("delete", "same-tags", "a")).get("result"));
        assertNothingLeft();
    }

    @Test
    void oneOfferWithThousandsOfMediaSectionsTakesNoPort()
    {
        final StringBuilder body = new StringBuilder("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n");
        for (int i = 0; i < 1200; i++)
        {
            body.append("m=audio ").append(10000 + 2 * i).append(" RTP/AVP 0\r\n");
        }
        final Map<String, Object> reply = offer("many-streams", "a", body.toString());
        assertEquals("Too many media sections: 1200 (at most 16 per call)", reply.get("error-reason"));
        assertNothingLeft();
    }

    @Test
    void anRtpPortLeavingNoRoomForRtcpIsAClearError()
    {
        final Map<String, Object> reply = offer("port-65535", "a", sdp(65535, "x"));
        assertEquals("Invalid port 65535 in an m= line: it leaves no port for RTCP", reply.get("error-reason"));
        assertNothingLeft();
    }

    /** Two parties offer in one call before anyone answers: both pending placeholders' ports are freed. */
    @Test
    void offersFromTwoTagsWithNoAnswerLeaveNoPortAfterTheDelete()
    {
        assertEquals("ok", offer("two-offers", "a", sdp(6000, "x")).get("result"));
        assertEquals("ok", offer("two-offers", "c", sdp(6004, "x")).get("result"));
        assertEquals("ok", commands.execute(kamailio("delete", "two-offers", "a")).get("result"));
        assertNothingLeft();
    }
}
