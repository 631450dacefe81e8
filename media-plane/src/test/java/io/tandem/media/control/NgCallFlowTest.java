package io.tandem.media.control;

import static io.tandem.media.control.NgServerTest.kamailio;
import static io.tandem.media.control.NgServerTest.sdp;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.tandem.media.MediaPlane;
import io.tandem.media.TestClock;
import io.tandem.media.TestContexts;
import io.tandem.media.RtpPeerAccess;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.tandem.ng.NgClient;

/** Call flows beyond the basic one, driven over ng: re-INVITEs from either side, hold, early media and forking. */
class NgCallFlowTest
{
    @TempDir
    Path dir;

    private MediaPlane plane;
    private final TestClock clock = new TestClock();
    private NgServer server;
    private NgClient client;
    private final List<AutoCloseable> peers = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception
    {
        plane = new MediaPlane(TestContexts.media(dir)
            .nanoClock(clock)
            .portRange(20100, 20199));
        final NgContext ng = new NgContext().listen("127.0.0.1:0").conclude();
        server = new NgServer(ng, new NgCommands(plane.registry(), 0, plane.context().maxCalls(), plane.context().deleteDelayNs()), plane.counters());
        client = new NgClient(server.localAddress());
    }

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(peers);
        CloseHelper.quietCloseAll(client, server, plane);
    }

    private RtpPeerAccess peer(final int ssrc) throws Exception
    {
        final RtpPeerAccess peer = new RtpPeerAccess(ssrc);
        peers.add(peer);
        return peer;
    }

    private String ok(final Map<String, Object> request) throws Exception
    {
        final Map<String, Object> reply = client.send(request);
        assertEquals("ok", reply.get("result"), String.valueOf(reply));
        return (String)reply.get("sdp");
    }

    /** @return the m=audio port in a rewritten SDP: where the receiver of that SDP must send. */
    private int offer(final String callId, final String fromTag, final String toTag, final String sdp) throws Exception
    {
        final Map<String, Object> request = kamailio("offer", callId, fromTag);
        if (toTag != null)
        {
            request.put("to-tag", toTag);
        }
        request.put("sdp", sdp);
        return Sdp.parse(ok(request)).media().get(0).port();
    }

    private int answer(final String callId, final String fromTag, final String toTag, final String sdp) throws Exception
    {
        final Map<String, Object> request = kamailio("answer", callId, fromTag);
        request.put("to-tag", toTag);
        request.put("sdp", sdp);
        return Sdp.parse(ok(request)).media().get(0).port();
    }

    private static void relay(final RtpPeerAccess from, final int port, final RtpPeerAccess to, final int sequence)
        throws Exception
    {
        final byte[] packet = from.rtp(sequence);
        from.send(packet, port);
        assertArrayEquals(packet, to.data(to.receive()));
    }

    @Test
    void aReInviteFromTheCallerMovesItsMediaWithoutChangingTandemsPorts() throws Exception
    {
        final RtpPeerAccess alice = peer(1);
        final RtpPeerAccess aliceMoved = peer(1);
        final RtpPeerAccess bob = peer(2);
        final int bobSendsTo = offer("c", "alice", null, sdp(alice.port(), "a"));
        final int aliceSendsTo = answer("c", "alice", "bob", sdp(bob.port(), "b"));
        relay(alice, aliceSendsTo, bob, 1);
        relay(bob, bobSendsTo, alice, 2);

        // re-INVITE: Alice now receives on another port, and puts the call on hold one way.
        final String moved = sdp(aliceMoved.port(), "a").replace("a=sendrecv", "a=sendonly");
        final Map<String, Object> reOffer = kamailio("offer", "c", "alice");
        reOffer.put("to-tag", "bob");
        reOffer.put("sdp", moved);
        final String toBob = ok(reOffer);
        assertEquals(bobSendsTo, Sdp.parse(toBob).media().get(0).port(), "the same call, the same port for Bob");
        assertTrue(toBob.contains("a=sendonly"), "direction attributes pass through: " + toBob);
        assertEquals(aliceSendsTo, answer("c", "alice", "bob", sdp(bob.port(), "b").replace("a=sendrecv", "a=recvonly")));

        relay(aliceMoved, aliceSendsTo, bob, 3);
        relay(bob, bobSendsTo, aliceMoved, 4);
        assertEquals(1, plane.registry().callCount());
    }

    @Test
    void aReInviteFromTheCalleeIsAnOfferWithTheTagsSwapped() throws Exception
    {
        final RtpPeerAccess alice = peer(1);
        final RtpPeerAccess bob = peer(2);
        final RtpPeerAccess bobMoved = peer(2);
        final int bobSendsTo = offer("c", "alice", null, sdp(alice.port(), "a"));
        final int aliceSendsTo = answer("c", "alice", "bob", sdp(bob.port(), "b"));

        // Bob re-INVITEs: From is Bob now, so Kamailio sends from-tag=bob, to-tag=alice.
        assertEquals(aliceSendsTo, offer("c", "bob", "alice", sdp(bobMoved.port(), "b")));
        assertEquals(bobSendsTo, answer("c", "bob", "alice", sdp(alice.port(), "a")));
        relay(alice, aliceSendsTo, bobMoved, 1);
        relay(bobMoved, bobSendsTo, alice, 2);
    }

    @Test
    void transcodePcmaMasksPcmuTowardsTheCalleeAndTranscodesBothWays() throws Exception
    {
        final RtpPeerAccess alice = peer(1);
        final RtpPeerAccess bob = peer(2);
        final Map<String, Object> offer = kamailio("offer", "c", "alice");
        offer.put("sdp", sdp(alice.port(), "a").replace("RTP/AVP 0 8 101", "RTP/AVP 0 101"));
        offer.put("flags", List.of("transcode-PCMA"));
        offer.put("codec", Map.of("mask", List.of("PCMU")));
        final String toBob = ok(offer);
        final Sdp.Media offered = Sdp.parse(toBob).media().get(0);
        assertEquals(List.of("8", "101"), offered.formats(), toBob);
        assertTrue(toBob.contains("a=rtpmap:8 PCMA/8000"), toBob);
        final int bobSendsTo = offered.port();

        final Map<String, Object> answer = kamailio("answer", "c", "alice");
        answer.put("to-tag", "bob");
        answer.put("sdp", sdp(bob.port(), "b").replace("RTP/AVP 0 8 101", "RTP/AVP 8 101")
            .replace("a=rtpmap:101", "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101"));
        final String toAlice = ok(answer);
        final Sdp.Media answered = Sdp.parse(toAlice).media().get(0);
        assertEquals(List.of("0", "101"), answered.formats(), "Alice is answered in the law she offered: " + toAlice);
        assertTrue(toAlice.contains("a=rtpmap:0 PCMU/8000") && !toAlice.contains("PCMA"), toAlice);
        final int aliceSendsTo = answered.port();

        final byte[] pcmu = alice.rtp(1); // payload type 0
        alice.send(pcmu, aliceSendsTo);
        final byte[] atBob = bob.data(bob.receive());
        assertEquals(8, atBob[1] & 0x7F, "Bob receives PCMA");
        for (int i = 12; i < pcmu.length; i++)
        {
            assertEquals(io.tandem.media.codec.G711.ulawToAlaw(pcmu[i]), atBob[i], "byte " + i);
        }
        final byte[] pcma = bob.rtp(2);
        pcma[1] = 8;
        bob.send(pcma, bobSendsTo);
        final byte[] atAlice = alice.data(alice.receive());
        assertEquals(0, atAlice[1] & 0x7F, "Alice receives PCMU");
        for (int i = 12; i < pcma.length; i++)
        {
            assertEquals(io.tandem.media.codec.G711.alawToUlaw(pcma[i]), atAlice[i], "byte " + i);
        }
        assertTrue(plane.counters().transcoded.get() >= 2);
    }

    @Test
    void stripRemovesACodecTowardsTheCallee() throws Exception
    {
        final Map<String, Object> offer = kamailio("offer", "c", "alice");
        offer.put("sdp", sdp(4000, "a"));
        offer.put("flags", List.of("codec-strip-telephone-event"));
        final String toBob = ok(offer);
        assertEquals(List.of("0", "8"), Sdp.parse(toBob).media().get(0).formats());
        assertTrue(!toBob.contains("telephone-event"), toBob);
    }

    @Test
    void aDelayedDeleteKeepsRelayingUntilTheDelayUnlessTheCallIsSignalledAgain() throws Exception
    {
        final RtpPeerAccess alice = peer(1);
        final RtpPeerAccess bob = peer(2);
        final int bobSendsTo = offer("c", "alice", null, sdp(alice.port(), "a"));
        final int aliceSendsTo = answer("c", "alice", "bob", sdp(bob.port(), "b"));

        final Map<String, Object> delete = kamailio("delete", "c", "alice");
        delete.put("delete delay", 1L);
        assertEquals("ok", client.send(delete).get("result"));
        relay(alice, aliceSendsTo, bob, 1);
        relay(bob, bobSendsTo, alice, 2);
        assertEquals("ok", client.send(kamailio("query", "c", "alice")).get("result"), "still there to be queried");

        // A new offer (a re-INVITE that crossed the BYE) cancels the pending delete.
        assertEquals(bobSendsTo, offer("c", "alice", "bob", sdp(alice.port(), "a")));
        clock.advanceAndHousekeep(plane, 1500);
        assertEquals(1, plane.registry().callCount());

        assertEquals("ok", client.send(delete).get("result"));
        clock.advanceAndHousekeep(plane, 999);
        assertEquals(1, plane.registry().callCount(), "not before the delay");
        clock.advanceAndHousekeep(plane, 2);
        assertEquals(0, plane.registry().callCount(), "deleted once the delay passed");
        assertEquals(plane.registry().ports().capacity(), plane.registry().ports().available());
    }

    @Test
    void rtcpMuxCanBeOfferedForAPartyThatDoesNotMuxAndDemuxedForOneThatDoes() throws Exception
    {
        // Alice does not mux; Tandem offers rtcp-mux to Bob and demultiplexes for Alice.
        final Map<String, Object> offer = kamailio("offer", "c1", "alice");
        offer.put("sdp", sdp(4000, "a"));
        offer.put("rtcp-mux", List.of("offer"));
        assertTrue(ok(offer).contains("a=rtcp-mux"), "offered to Bob");
        final Map<String, Object> answer = kamailio("answer", "c1", "alice");
        answer.put("to-tag", "bob");
        answer.put("sdp", sdp(5000, "b") + "a=rtcp-mux\r\n");
        assertTrue(!ok(answer).contains("a=rtcp-mux"), "Alice never offered it, so her answer must not carry it");

        // Alice muxes but the request demuxes: Bob is offered no rtcp-mux, and Alice's answer has none either.
        final Map<String, Object> muxOffer = kamailio("offer", "c2", "alice");
        muxOffer.put("sdp", sdp(4002, "a") + "a=rtcp-mux\r\n");
        muxOffer.put("rtcp-mux", List.of("demux"));
        assertTrue(!ok(muxOffer).contains("a=rtcp-mux"));
        final Map<String, Object> muxAnswer = kamailio("answer", "c2", "alice");
        muxAnswer.put("to-tag", "bob");
        muxAnswer.put("sdp", sdp(5002, "b"));
        assertTrue(!ok(muxAnswer).contains("a=rtcp-mux"));
        final Map<?, ?> query = client.send(kamailio("query", "c2", "alice"));
        final Map<?, ?> alice = (Map<?, ?>)((Map<?, ?>)query.get("tags")).get("alice");
        final List<?> flags = (List<?>)((Map<?, ?>)((List<?>)alice.get("medias")).get(0)).get("flags");
        assertTrue(!flags.contains("rtcp-mux"), "Alice is relayed without rtcp-mux now: " + flags);
    }

    private static String originVersion(final String sdp) throws Exception
    {
        return Sdp.parse(sdp).originVersion();
    }

    @Test
    void replaceSdpVersionCountsChangesOfWhatTandemSends() throws Exception
    {
        final Map<String, Object> offer = kamailio("offer", "c", "alice");
        offer.put("sdp", sdp(4000, "a").replace("o=- 1 1 IN", "o=- 1 7 IN"));
        offer.put("replace", List.of("origin", "SDP-version"));
        assertEquals("7", originVersion(ok(offer)), "the first SDP keeps the party's version");
        assertEquals("7", originVersion(ok(offer)), "the same SDP again (a retransmitted INVITE): same version");

        // A re-INVITE whose SDP changes (hold), though the phone forgot to bump its own version.
        offer.put("sdp", sdp(4000, "a").replace("o=- 1 1 IN", "o=- 1 7 IN").replace("a=sendrecv", "a=sendonly"));
        assertEquals("8", originVersion(ok(offer)));

        // Without the option, the party's version passes through.
        offer.put("replace", List.of("origin"));
        assertEquals("7", originVersion(ok(offer)));
    }

    @Test
    void earlyMediaFromOneForkThenTheAnswerFromAnother() throws Exception
    {
        final RtpPeerAccess alice = peer(1);
        final RtpPeerAccess fork1 = peer(2);
        final RtpPeerAccess fork2 = peer(3);
        final int forkSendsTo = offer("c", "alice", null, sdp(alice.port(), "a"));

        // 183 with SDP from the first fork: early media (ringback) flows to Alice.
        final int aliceSendsTo = answer("c", "alice", "fork-1", sdp(fork1.port(), "f1"));
        relay(fork1, forkSendsTo, alice, 1);
        relay(alice, aliceSendsTo, fork1, 2);

        // 200 OK from the second fork: it takes over; the first fork's media is no longer relayed.
        assertEquals(aliceSendsTo, answer("c", "alice", "fork-2", sdp(fork2.port(), "f2")));
        relay(alice, aliceSendsTo, fork2, 3);
        relay(fork2, forkSendsTo, alice, 4);
        final Map<String, Object> query = client.send(kamailio("query", "c", "alice"));
        assertEquals(List.of("alice", "fork-2"), List.copyOf(((Map<?, ?>)query.get("tags")).keySet()));
        assertEquals(1, plane.registry().callCount());
    }
}
