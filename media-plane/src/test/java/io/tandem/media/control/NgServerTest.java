package io.tandem.media.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.tandem.media.MediaPlane;
import io.tandem.media.TestContexts;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.tandem.ng.Bencode;
import io.tandem.ng.NgClient;

/** The ng protocol over real UDP, with requests shaped as Kamailio's rtpengine module sends them. */
class NgServerTest
{
    @TempDir
    Path dir;

    private MediaPlane plane;
    private NgServer server;
    private NgClient client;
    private final List<AutoCloseable> peers = new java.util.ArrayList<>();

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(peers);
        CloseHelper.quietCloseAll(client, server, plane);
    }

    private void start(final NgContext ng) throws Exception
    {
        plane = new MediaPlane(TestContexts.media(dir)
            .portRange(20000, 20099));
        ng.listen("127.0.0.1:0").conclude();
        server = new NgServer(ng, new NgCommands(plane.registry(), ng.maxSessions(), plane.context().maxCalls(), plane.context().deleteDelayNs()), plane.counters());
        client = new NgClient(server.localAddress());
    }

    private void start() throws Exception
    {
        start(new NgContext());
    }

    private io.tandem.media.RtpPeerAccess peer(final int ssrc) throws Exception
    {
        final io.tandem.media.RtpPeerAccess peer = new io.tandem.media.RtpPeerAccess(ssrc);
        peers.add(peer);
        return peer;
    }

    static String sdp(final int port, final String session)
    {
        return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=" + session + "\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
            "m=audio " + port + " RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n" +
            "a=candidate:1 1 UDP 2130706431 127.0.0.1 " + port + " typ host\r\na=sendrecv\r\n";
    }

    static Map<String, Object> kamailio(final String command, final String callId, final String fromTag)
    {
        final Map<String, Object> request = new LinkedHashMap<>();
        request.put("supports", List.of("load limit"));
        request.put("call-id", callId);
        request.put("received-from", List.of("IP4", "127.0.0.1"));
        request.put("from-tag", fromTag);
        request.put("command", command);
        return request;
    }

    private static int port(final Object sdp) throws Exception
    {
        return Sdp.parse((String)sdp).media().get(0).port();
    }

    @Test
    void pingGetsPong() throws Exception
    {
        start();
        final Map<String, Object> ping = new LinkedHashMap<>();
        ping.put("command", "ping");
        assertEquals(Map.of("result", "pong"), client.send("5323_1", ping));
    }

    @Test
    void jsonRequestsGetJsonReplies() throws Exception
    {
        start();
        final byte[] pong = client.exchange("j1 {\"command\": \"ping\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals("j1 {\"result\":\"pong\"}", new String(pong, StandardCharsets.UTF_8));
        final String offer = "j2 {\"command\": \"offer\", \"call-id\": \"json-call\", \"from-tag\": \"a\", \"sdp\": \"" +
            sdp(4000, "a").replace("\r\n", "\\r\\n") + "\"}";
        final String reply = new String(client.exchange(offer.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
        assertTrue(reply.startsWith("j2 {\"result\":\"ok\",\"sdp\":\"v=0\\r\\n"), reply);
        assertEquals(List.of("json-call"), plane.registry().callIds());
        final byte[] bad = client.exchange("j3 {\"command\": ".getBytes(StandardCharsets.UTF_8));
        assertTrue(new String(bad, StandardCharsets.UTF_8).contains("Could not decode JSON dictionary"));
    }

    @Test
    void offerAnswerRelayQueryAndDeleteLikeKamailio() throws Exception
    {
        start();
        final var alice = peer(1);
        final var bob = peer(2);

        final Map<String, Object> offer = kamailio("offer", "call-1@host", "alice-tag");
        offer.put("sdp", sdp(alice.port(), "alice"));
        offer.put("via-branch", "z9hG4bK.1");
        offer.put("flags", List.of("trust address"));
        offer.put("replace", List.of("origin", "session-connection"));
        offer.put("ICE", "remove");
        final Map<String, Object> offerReply = client.send(offer);
        assertEquals("ok", offerReply.get("result"), String.valueOf(offerReply));
        final String toBob = (String)offerReply.get("sdp");
        assertTrue(toBob.contains("c=IN IP4 127.0.0.1\r\n"), toBob);
        assertTrue(!toBob.contains("a=candidate"), "ICE removed: " + toBob);
        assertTrue(toBob.contains("a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"), "untouched lines kept: " + toBob);
        final int bobSendsTo = port(toBob);
        assertTrue(bobSendsTo >= 20000 && bobSendsTo <= 20099);

        final Map<String, Object> answer = kamailio("answer", "call-1@host", "alice-tag");
        answer.put("to-tag", "bob-tag");
        answer.put("sdp", sdp(bob.port(), "bob"));
        final Map<String, Object> answerReply = client.send(answer);
        assertEquals("ok", answerReply.get("result"), String.valueOf(answerReply));
        final int aliceSendsTo = port(answerReply.get("sdp"));

        final byte[] fromAlice = alice.rtp(1);
        alice.send(fromAlice, aliceSendsTo);
        assertArrayEquals(fromAlice, alice.data(bob.receive()));
        final byte[] fromBob = bob.rtp(2);
        bob.send(fromBob, bobSendsTo);
        assertArrayEquals(fromBob, alice.data(alice.receive()));

        final Map<String, Object> query = client.send(kamailio("query", "call-1@host", "alice-tag"));
        assertEquals("ok", query.get("result"));
        final Map<?, ?> tags = (Map<?, ?>)query.get("tags");
        assertEquals(List.of("alice-tag", "bob-tag"), List.copyOf(tags.keySet()));
        assertEquals("bob-tag", ((Map<?, ?>)tags.get("alice-tag")).get("in dialogue with"));
        assertEquals(2L, ((Map<?, ?>)((Map<?, ?>)query.get("totals")).get("RTP")).get("packets"));

        // What Kamailio 5.6 sends on BYE: call-id and from-tag only.
        final Map<String, Object> delete = client.send(kamailio("delete", "call-1@host", "alice-tag"));
        assertEquals("ok", delete.get("result"));
        assertEquals(2L, ((Map<?, ?>)((Map<?, ?>)delete.get("totals")).get("RTP")).get("packets"));
        assertEquals(0, plane.registry().callCount());
        assertEquals(plane.registry().ports().capacity(), plane.registry().ports().available(), "the call's ports are free again");
    }

    @Test
    void aRetransmittedRequestGetsTheCachedReplyAndRunsOnce() throws Exception
    {
        start();
        final var alice = peer(1);
        final Map<String, Object> offer = kamailio("offer", "call-rtx", "a");
        offer.put("sdp", sdp(alice.port(), "alice"));
        final byte[] body = Bencode.encode(offer);
        final byte[] message = ("777_3 " + new String(body, StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1);
        final byte[] first = client.exchange(message);
        final byte[] second = client.exchange(message);
        assertNotNull(first);
        assertArrayEquals(first, second);
        assertEquals(1, plane.counters().ngRetransmits.get());
        assertEquals(1, plane.counters().ngRequests.get(), "executed once");
        assertEquals(plane.registry().ports().capacity() - 2, plane.registry().ports().available());

        // Kamailio re-sends the offer with a new cookie for a retransmitted INVITE: still the same call and ports.
        final Map<String, Object> again = client.send(offer);
        final Map<?, ?> firstReply = (Map<?, ?>)Bencode.decode(first, "777_3 ".length(), first.length - "777_3 ".length());
        assertEquals(port(firstReply.get("sdp")), port(again.get("sdp")));
        assertEquals(1, plane.registry().callCount());
        assertEquals(plane.registry().ports().capacity() - 2, plane.registry().ports().available());
    }

    private String errorReason(final Map<String, Object> request) throws Exception
    {
        final Map<String, Object> reply = client.send(request);
        assertEquals("error", reply.get("result"), String.valueOf(reply));
        return (String)reply.get("error-reason");
    }

    private String rawErrorReason(final String message) throws Exception
    {
        final byte[] reply = client.exchange(message.getBytes(StandardCharsets.ISO_8859_1));
        assertNotNull(reply, "no reply to " + message);
        final String text = new String(reply, StandardCharsets.ISO_8859_1);
        final int space = text.indexOf(' ');
        final Map<?, ?> decoded = (Map<?, ?>)Bencode.decode(reply, space + 1, reply.length - space - 1);
        assertEquals("error", decoded.get("result"));
        return (String)decoded.get("error-reason");
    }

    @Test
    void malformedRequestsGetAClearErrorAndLeakNothing() throws Exception
    {
        start();
        assertNull(client.exchange("no-cookie-at-all".getBytes(StandardCharsets.ISO_8859_1)), "no cookie: no reply");
        assertEquals(1, plane.counters().ngMalformed.get());
        assertTrue(rawErrorReason("c1 d7:command4:ping").startsWith("Could not decode bencode dictionary: truncated"));
        assertTrue(rawErrorReason("c2 i5e").equals("Message is not a bencode dictionary"));
        assertTrue(rawErrorReason("c3 d3:sdp99999999:xe").contains("runs past the end"));
        assertTrue(rawErrorReason("c4 " + "l".repeat(100)).contains("nested deeper"));
        assertEquals("No command in message", rawErrorReason("c5 de"));
        assertEquals("Unrecognized command 'dance'", errorReason(Map.of("command", "dance")));
        assertEquals("No call-id in message", errorReason(Map.of("command", "offer", "from-tag", "a", "sdp", "v=0")));
        final Map<String, Object> wrongType = new LinkedHashMap<>(kamailio("offer", "x", "a"));
        wrongType.put("call-id", 5L);
        assertEquals("Invalid call-id: must be a string", errorReason(wrongType));
        final Map<String, Object> badSdp = kamailio("offer", "call-bad", "a");
        badSdp.put("sdp", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nm=audio seven RTP/AVP 0\r\n");
        assertEquals("Failed to parse SDP: line 3: m= port is not a number: 'seven'", errorReason(badSdp));
        final Map<String, Object> noMedia = kamailio("offer", "call-empty", "a");
        noMedia.put("sdp", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n");
        assertEquals("Failed to parse SDP: no m= line", errorReason(noMedia));
        final Map<String, Object> answerWithoutOffer = kamailio("answer", "call-none", "a");
        answerWithoutOffer.put("to-tag", "b");
        answerWithoutOffer.put("sdp", sdp(4000, "b"));
        assertEquals("Unknown call-id", errorReason(answerWithoutOffer));
        final Map<String, Object> badInterface = kamailio("offer", "call-if", "a");
        badInterface.put("sdp", sdp(4000, "a"));
        badInterface.put("direction", List.of("internal", "external"));
        assertEquals("Unknown interface 'internal'", errorReason(badInterface));

        assertEquals(0, plane.registry().callCount(), "nothing was created");
        assertEquals(plane.registry().ports().capacity(), plane.registry().ports().available(), "no port leaked");
        assertTrue(plane.counters().ngErrors.get() >= 7);
    }

    @Test
    void unknownKeysAndFlagsAreIgnoredWithAWarning() throws Exception
    {
        start();
        final Map<String, Object> offer = kamailio("offer", "call-w", "a");
        offer.put("sdp", sdp(4000, "a"));
        offer.put("flags", List.of("trust address", "teleport"));
        offer.put("rtpp-flags", "symmetric wobble");
        offer.put("shiny-new-key", "yes");
        final Map<String, Object> reply = client.send(offer);
        assertEquals("ok", reply.get("result"));
        final String warning = (String)reply.get("warning");
        assertTrue(warning.contains("shiny-new-key") && warning.contains("flag teleport") && warning.contains("flag wobble"),
            warning);
    }

    /**
     * Issue 17: a reply larger than a UDP datagram can carry (a long list) could not be sent, and the client heard
     * nothing; it now gets an error saying so.
     */
    @Test
    void aReplyTooLargeForAUdpDatagramIsAnErrorNotSilence() throws Exception
    {
        start();
        final String longTail = "x".repeat(2_800);
        for (int i = 0; i < 24; i++)
        {
            plane.registry().offer(i + "-" + longTail + "@pbx", "a",
                List.of(io.tandem.media.session.StreamSpec.of(new java.net.InetSocketAddress("127.0.0.1", 4000 + 2 * i))));
        }
        final Map<String, Object> list = kamailio("list", "any", "a");
        list.put("limit", 100L);
        final Map<String, Object> reply = client.send(list);
        assertEquals("error", reply.get("result"), String.valueOf(reply).substring(0, 80));
        assertTrue(((String)reply.get("error-reason")).startsWith("Reply too large for a UDP datagram"));
        list.put("limit", 5L);
        assertEquals("ok", client.send(list).get("result"), "a smaller limit fits");
    }

    @Test
    void beyondTheSessionLimitClientsThatSupportItGetLoadLimit() throws Exception
    {
        start(new NgContext().maxSessions(1));
        final Map<String, Object> first = kamailio("offer", "call-1", "a");
        first.put("sdp", sdp(4000, "a"));
        assertEquals("ok", client.send(first).get("result"));
        final Map<String, Object> second = kamailio("offer", "call-2", "a");
        second.put("sdp", sdp(4002, "a"));
        final Map<String, Object> reply = client.send(second);
        assertEquals("load limit", reply.get("result"));
        second.remove("supports");
        assertEquals("Parallel session limit reached", errorReason(second));
        assertEquals("ok", client.send(first).get("result"), "the existing call may still re-offer");
        assertEquals(1, plane.registry().callCount());
        assertEquals(2, plane.counters().ngLoadLimit.get());
    }

    @Test
    void sourcesOutsideTheAllowedNetworksAreDroppedAndCounted() throws Exception
    {
        start(new NgContext().allow("10.0.0.0/8"));
        final Map<String, Object> ping = new LinkedHashMap<>();
        ping.put("command", "ping");
        assertNull(client.send(ping));
        assertEquals(1, plane.counters().ngSourceRefused.get());
    }

    @Test
    void listAndStatistics() throws Exception
    {
        start();
        for (int i = 0; i < 3; i++)
        {
            final Map<String, Object> offer = kamailio("offer", "call-" + i, "a");
            offer.put("sdp", sdp(4000 + 2 * i, "a"));
            assertEquals("ok", client.send(offer).get("result"));
        }
        final Map<String, Object> list = new LinkedHashMap<>();
        list.put("command", "list");
        list.put("limit", 2L);
        assertEquals(List.of("call-0", "call-1"), client.send(list).get("calls"));
        final Map<String, Object> statistics = new LinkedHashMap<>();
        statistics.put("command", "statistics");
        final Map<?, ?> current = (Map<?, ?>)((Map<?, ?>)client.send(statistics).get("statistics")).get("currentstatistics");
        assertEquals(3L, current.get("sessionsown"));
    }
}
