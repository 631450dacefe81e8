package io.tandem.media;

import io.tandem.media.session.MediaException;
import io.tandem.media.session.MediaStream;
import io.tandem.media.session.StreamSpec;
import io.tandem.media.relay.EndpointView;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A call bridging two logical interfaces, as an SBC bridges its external and internal networks: here 127.0.0.1
 * stands for the external side and 127.0.0.2 for the internal one.
 */
class InterfaceBridgeTest
{
    @TempDir
    Path dir;

    private MediaPlane plane;
    private RtpPeer alice;
    private RtpPeer bob;

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(plane, alice, bob);
    }

    private MediaContext context()
    {
        return TestContexts.media(dir)
            .addInterface("external/127.0.0.1!203.0.113.5/28000-28099")
            .addInterface("internal/127.0.0.2/28100-28199");
    }

    private static void relay(final RtpPeer from, final InetSocketAddress to, final RtpPeer receiver,
        final InetSocketAddress expectedSource, final int sequence) throws Exception
    {
        final byte[] packet = from.rtp(sequence);
        from.send(packet, to);
        final DatagramPacket received = receiver.receive();
        assertNotNull(received);
        assertArrayEquals(packet, RtpPeer.data(received));
        assertEquals(expectedSource, received.getSocketAddress(), "sent from Tandem's socket on the receiver's side");
    }

    @Test
    void bridgesExternalToInternalAndSurvivesARestart() throws Exception
    {
        plane = new MediaPlane(context());
        alice = new RtpPeer(1);
        bob = new RtpPeer(2);
        final MediaStream towardsBob = plane.registry().offer("bridged", "alice", List.of(StreamSpec.of(alice.address())),
            "external", "internal").get(0);
        final MediaStream towardsAlice =
            plane.registry().answer("bridged", "alice", "bob", List.of(StreamSpec.of(bob.address()))).get(0);

        assertEquals("internal", towardsBob.mediaInterface().name());
        assertEquals("127.0.0.2", towardsBob.advertisedAddress());
        assertTrue(towardsBob.localRtpPort() >= 28100 && towardsBob.localRtpPort() <= 28199);
        assertEquals("external", towardsAlice.mediaInterface().name());
        assertEquals("203.0.113.5", towardsAlice.advertisedAddress(), "the external side announces its public address");
        assertTrue(towardsAlice.localRtpPort() >= 28000 && towardsAlice.localRtpPort() <= 28099);

        final InetSocketAddress external = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), towardsAlice.localRtpPort());
        final InetSocketAddress internal = new InetSocketAddress(InetAddress.getByName("127.0.0.2"), towardsBob.localRtpPort());
        relay(alice, external, bob, internal, 1);
        relay(bob, internal, alice, external, 2);

        plane.close();
        plane = new MediaPlane(context());
        relay(alice, external, bob, internal, 3);
        relay(bob, internal, alice, external, 4);
        assertEquals(1, plane.registry().ports().capacity() - plane.registry().ports().available(), "external ports in use");
    }

    @Test
    void interfacesOnDifferentAddressesShareOnePortRange() throws Exception
    {
        // One RTP/RTCP pair per interface: both legs of the call must get the very same port numbers.
        final MediaContext shared = TestContexts.media(dir)
            .addInterface("external/127.0.0.1/28200-28201")
            .addInterface("internal/127.0.0.2/28200-28201");
        plane = new MediaPlane(shared);
        alice = new RtpPeer(1);
        bob = new RtpPeer(2);
        final MediaStream towardsBob = plane.registry().offer("same-ports", "alice", List.of(StreamSpec.of(alice.address())),
            "external", "internal").get(0);
        final MediaStream towardsAlice =
            plane.registry().answer("same-ports", "alice", "bob", List.of(StreamSpec.of(bob.address()))).get(0);
        assertEquals(28200, towardsBob.localRtpPort());
        assertEquals(28200, towardsAlice.localRtpPort());

        final InetSocketAddress external = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 28200);
        final InetSocketAddress internal = new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 28200);
        relay(alice, external, bob, internal, 1);
        relay(bob, internal, alice, external, 2);

        final Map<MediaStream, EndpointView.Stream> views = plane.registry().endpointViews(plane.registry().call("same-ports"));
        assertEquals(1, views.get(towardsAlice).rtp().packets(), "Alice's packet, counted on the external socket");
        assertEquals(1, views.get(towardsBob).rtp().packets(), "Bob's packet, counted on the internal socket");

        plane.close();
        plane = new MediaPlane(shared);
        relay(alice, external, bob, internal, 3);
        relay(bob, internal, alice, external, 4);
    }

    @Test
    void anUnknownInterfaceIsAClearError() throws Exception
    {
        plane = new MediaPlane(context());
        alice = new RtpPeer(1);
        final MediaException ex = assertThrows(MediaException.class, () -> plane.registry().offer("c", "alice",
            List.of(StreamSpec.of(alice.address())), "external", "dmz"));
        assertEquals("Unknown interface 'dmz'", ex.getMessage());
        assertEquals(0, plane.registry().callCount());
    }
}
