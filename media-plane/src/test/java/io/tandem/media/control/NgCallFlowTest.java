package io.tandem.media.control;

import static io.tandem.media.control.NgServerTest.kamailio;
import static io.tandem.media.control.NgServerTest.sdp;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.tandem.media.MediaContext;
import io.tandem.media.MediaPlane;
import io.tandem.media.RtpPeerAccess;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Call flows beyond the basic one, driven over ng: re-INVITEs from either side, hold, early media and forking. */
class NgCallFlowTest
{
    @TempDir
    Path dir;

    private MediaPlane plane;
    private NgServer server;
    private NgClient client;
    private final List<AutoCloseable> peers = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception
    {
        plane = new MediaPlane(new MediaContext()
            .portRange(20100, 20199)
            .sessionsFile(new File(dir.toFile(), "sessions.cm3"))
            .countersFile(new File(dir.toFile(), "counters.dat")));
        final NgContext ng = new NgContext().listen("127.0.0.1:0").conclude();
        server = new NgServer(ng, new NgCommands(plane, 0), plane.counters());
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
        assertEquals(1, plane.callCount());
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
        assertEquals(1, plane.callCount());
    }
}
