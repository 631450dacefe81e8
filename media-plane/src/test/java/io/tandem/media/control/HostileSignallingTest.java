package io.tandem.media.control;

import static io.tandem.media.control.NgServerTest.kamailio;
import static io.tandem.media.control.NgServerTest.sdp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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

    /** Found by NgCommandsFuzzTest: port 65535 with rtcp-mux needs no next port, and once gave "Internal error". */
    @Test
    void port65535WithRtcpMuxIsAccepted()
    {
        final Map<String, Object> reply = offer("port-65535-mux", "a", sdpAt("127.0.0.1", 65535) + "a=rtcp-mux\r\n");
        assertEquals("ok", reply.get("result"), String.valueOf(reply));
        commands.execute(kamailio("delete", "port-65535-mux", "a"));
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

    private static java.nio.ByteBuffer ping(final String cookie)
    {
        return java.nio.ByteBuffer.wrap((cookie + " d7:command4:pinge").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    /**
     * Issue 17, item 8: the retransmit cache was bounded by count (100,000 replies of up to 64 KB), keyed by cookie
     * alone. Now it is bounded in bytes, oldest out first, and a cookie answers only the source that sent it.
     */
    @Test
    void theRetransmitCacheIsBoundedInBytesAndKeyedBySource() throws Exception
    {
        final NgContext ng = new NgContext().listen("127.0.0.1:0").retransmitCacheBytes(2_000).conclude();
        try (NgServer server = new NgServer(ng, commands, plane.counters()))
        {
            final java.net.InetSocketAddress kamailio = new java.net.InetSocketAddress("127.0.0.1", 5060);
            final java.net.InetSocketAddress stranger = new java.net.InetSocketAddress("127.0.0.2", 5060);
            for (int i = 0; i < 500; i++)
            {
                server.handle(kamailio, ping("flood-" + i));
                assertEquals(true, server.cachedBytes() <= 2_000, "cache bytes " + server.cachedBytes());
            }
            final long retransmits = plane.counters().ngRetransmits.get();
            server.handle(kamailio, ping("flood-499")); // the newest is still cached
            assertEquals(retransmits + 1, plane.counters().ngRetransmits.get());
            final long executed = plane.counters().ngRequests.get();
            server.handle(stranger, ping("flood-499")); // same cookie, another source: its own request
            assertEquals(executed + 1, plane.counters().ngRequests.get());
            assertEquals(retransmits + 1, plane.counters().ngRetransmits.get());
        }
    }

    /**
     * Issue 17, item 3: the load limit counted calls only, so a node out of ports answered offers with an error
     * and Kamailio did not try the next node. Running out of ports is now a load limit, before any port is taken.
     */
    @Test
    void aNodeOutOfPortsAnswersLoadLimit()
    {
        CloseHelper.quietClose(plane);
        plane = new MediaPlane(TestContexts.media(dir.resolve("small")).portRange(23000, 23007)); // four port pairs
        commands = new NgCommands(plane.registry(), 0, plane.context().maxCalls(), 0);
        assertEquals("ok", offer("fits-1", "a", sdp(6000, "x")).get("result"));
        assertEquals("ok", offer("fits-2", "a", sdp(6002, "x")).get("result"));
        final long limited = plane.counters().ngLoadLimit.get();
        final Map<String, Object> reply = offer("one-too-many", "a", sdp(6004, "x"));
        assertEquals("load limit", reply.get("result"), String.valueOf(reply));
        assertEquals("Out of media ports", reply.get("message"));
        assertEquals(limited + 1, plane.counters().ngLoadLimit.get());
        assertEquals(2, plane.registry().callCount());
        assertEquals(0, plane.registry().ports().available());
    }

    private static String sdpAt(final String address, final int port)
    {
        return "v=0\r\no=- 1 1 IN IP4 " + address + "\r\ns=-\r\nc=IN IP4 " + address + "\r\nt=0 0\r\n" +
            "m=audio " + port + " RTP/AVP 0\r\na=sendrecv\r\n";
    }

    private static String reason(final Map<String, Object> reply)
    {
        assertEquals("error", reply.get("result"), String.valueOf(reply));
        return (String)reply.get("error-reason");
    }

    /**
     * Issue 17, item 2: an SDP that points a party at one of Tandem's own media ports (a loop: two legs pointed at
     * each other would circulate a packet for ever), at its ng port (reflection into the control plane), or at a
     * multicast group is refused before any port is taken.
     */
    @Test
    void sdpPointingAtTandemItselfOrAMulticastGroupIsRefused() throws Exception
    {
        commands.guardControlEndpoints(List.of(new InetSocketAddress("127.0.0.1", 2223)));
        final Map<String, Object> live = offer("live", "a", sdpAt("127.0.0.1", 5000));
        final int tandemPort = Sdp.parse((String)live.get("sdp")).media().get(0).port(); // in use by "live"
        assertTrue(reason(offer("loop", "a", sdpAt("127.0.0.1", tandemPort))).contains("Tandem's own media port"));
        assertTrue(reason(offer("reflect", "a", sdpAt("127.0.0.1", 2223))).contains("Tandem's control port"));
        assertTrue(reason(offer("group", "a", sdpAt("239.1.2.3", 5004))).contains("multicast"));
        final Map<String, Object> rtcpAtTandem = kamailio("offer", "rtcp-loop", "a");
        rtcpAtTandem.put("sdp", sdpAt("127.0.0.1", 5002) + "a=rtcp:" + (tandemPort + 1) + "\r\n");
        assertTrue(reason(commands.execute(rtcpAtTandem)).contains("Invalid RTCP address 127.0.0.1:" + (tandemPort + 1)));
        assertTrue(plane.counters().ngErrors.get() >= 4);

        // A party on this host may receive on a port of Tandem's range that Tandem has not taken (an ephemeral
        // port: tandem-load's endpoints were refused when the whole range was guarded).
        assertEquals("ok", offer("neighbour", "a", sdpAt("127.0.0.1", 23998)).get("result"));
        commands.execute(kamailio("delete", "neighbour", "a"));
        commands.execute(kamailio("delete", "live", "a"));
        assertNothingLeft();
    }

    /**
     * A privileged port of this host (DNS on 127.0.0.53:53, NTP, SNMP, syslog) is a local service's: media sent there
     * reflects an attacker's packets into it. Refused on loopback and on every address of the host; a remote party's
     * low port is its own business.
     */
    @Test
    void sdpPointingAtAPrivilegedPortOfThisHostIsRefused() throws Exception
    {
        assertTrue(reason(offer("dns", "a", sdpAt("127.0.0.53", 53))).contains("a privileged port of this host"));
        assertTrue(reason(offer("ntp", "a", sdpAt("127.0.0.1", 123))).contains("a privileged port of this host"));
        final Optional<InetAddress> hostAddress = NetworkInterface.networkInterfaces()
            .flatMap(NetworkInterface::inetAddresses)
            .filter((a) -> a instanceof Inet4Address && !a.isLoopbackAddress()).findFirst();
        if (hostAddress.isPresent())
        {
            assertTrue(reason(offer("snmp", "a", sdpAt(hostAddress.get().getHostAddress(), 161)))
                .contains("a privileged port of this host"));
        }
        assertEquals("ok", offer("remote-low", "a", sdpAt("192.0.2.77", 999)).get("result"), "a remote party's port");
        assertEquals("ok", offer("local-high", "a", sdpAt("127.0.0.1", 1024)).get("result"), "an unprivileged one");
        commands.execute(kamailio("delete", "remote-low", "a"));
        commands.execute(kamailio("delete", "local-high", "a"));
        assertNothingLeft();
    }

    /** c=0.0.0.0 is the old way to hold a call: accepted, and Tandem sends nothing there (0.0.0.0 is the local host). */
    @Test
    void theUnspecifiedAddressIsHoldNotADestination() throws Exception
    {
        final Map<String, Object> reply = offer("held", "a", sdpAt("0.0.0.0", 5000));
        assertEquals("ok", reply.get("result"), String.valueOf(reply));
        final int port = Sdp.parse((String)reply.get("sdp")).media().get(0).port();
        final Map<String, Object> answer = kamailio("answer", "held", "a");
        answer.put("to-tag", "b");
        answer.put("sdp", sdpAt("127.0.0.1", 5002));
        assertEquals("ok", commands.execute(answer).get("result"));
        assertTrue(port > 0);
        final io.tandem.media.session.CallRecord.MonologueRecord held = plane.registry().storedRecord("held").monologues()
            .stream().filter((m) -> m.tag().equals("a")).findFirst().orElseThrow();
        assertEquals(null, held.streams().get(0).spec().rtp(), "no destination for the held party");
    }

    /** With media interfaces off loopback, a loopback media address can only reach this host's own services. */
    @Test
    void loopbackIsRefusedWhenTheMediaInterfacesAreNotOnLoopback() throws Exception
    {
        plane.close();
        plane = new MediaPlane(TestContexts.media(dir).bindAddress("0.0.0.0").portRange(23000, 23999));
        commands = new NgCommands(plane.registry(), 0, plane.context().maxCalls(), 0);
        assertTrue(reason(offer("lo", "a", sdpAt("127.0.0.1", 5000))).contains("loopback"));
        assertNothingLeft();
    }

    /**
     * loop protect (as rtpengine): the SDP Tandem sends carries its mark; an SDP that comes back with the mark (a
     * signalling loop) is left as it is, and no call or port is touched for it.
     */
    @Test
    void loopProtectLeavesAnSdpThatWasAlreadyHereUntouched() throws Exception
    {
        final Map<String, Object> first = kamailio("offer", "looped", "a");
        first.put("sdp", sdpAt("127.0.0.1", 5000));
        first.put("flags", List.of("loop-protect"));
        final Map<String, Object> reply = commands.execute(first);
        assertEquals("ok", reply.get("result"), String.valueOf(reply));
        final String marked = (String)reply.get("sdp");
        assertTrue(marked.contains("a=rtpengine:tandem-127.0.0.1\r\n"), marked);
        Sdp.parse(marked); // still SDP
        final int portsInUse = plane.registry().ports().capacity() - plane.registry().ports().available();

        final Map<String, Object> loop = kamailio("offer", "looped-back", "a2");
        loop.put("sdp", marked);
        loop.put("flags", List.of("loop-protect"));
        final Map<String, Object> again = commands.execute(loop);
        assertEquals("ok", again.get("result"));
        assertEquals(marked, again.get("sdp"), "left untouched");
        assertEquals(1, plane.registry().callCount(), "no call for the looped SDP");
        assertEquals(portsInUse, plane.registry().ports().capacity() - plane.registry().ports().available());

        final Map<String, Object> plain = kamailio("offer", "unmarked", "a");
        plain.put("sdp", sdpAt("127.0.0.1", 5004));
        assertTrue(!((String)commands.execute(plain).get("sdp")).contains("a=rtpengine"), "no mark unless asked");
    }
}
