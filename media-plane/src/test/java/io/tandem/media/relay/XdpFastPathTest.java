package io.tandem.media.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.tandem.media.TestProcesses;

/**
 * The XDP fast path on a real kernel, in two network namespaces joined by a veth pair (native XDP): a peer sends
 * RTP-sized packets to the relay's address; the program, loaded and attached from Java with no compiler, forwards
 * those of a stream it has an entry for straight back out with the addresses and ports the relay would use, and the
 * peer receives them on its other port from the relay's other port, with no socket open on the relay. A packet from
 * another source than the entry names is dropped in the kernel and counted; a port with no entry and a removed
 * entry are not forwarded. The verifier's acceptance of the program is part of the test.
 */
class XdpFastPathTest
{
    private static final String PEER = "10.218.0.1";
    private static final String RELAY = "10.218.0.2";

    private final TestProcesses processes = new TestProcesses();
    private Path work;
    private VethPair veth;

    @BeforeEach
    void setUp() throws IOException
    {
        final Path target = TestProcesses.REPO.resolve("media-plane/target");
        Files.createDirectories(target);
        work = Files.createTempDirectory(target, "xdp-test-");
    }

    @AfterEach
    void tearDown() throws Exception
    {
        processes.close();
        if (veth != null)
        {
            veth.close();
        }
    }

    private static void await(final String what, final Supplier<Boolean> condition) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.get())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("never happened: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void establishedStreamsAreForwardedInTheKernelAndStrangersDropped() throws Exception
    {
        TestProcesses.need(TestProcesses.root(), "XDP and network namespaces need root");
        veth = new VethPair("tdx", PEER, RELAY);
        final String nsPeer = veth.nsA;
        final String nsRelay = veth.nsB;
        final String peerMac = VethPair.mac(nsPeer);
        final String relayMac = VethPair.mac(nsRelay);

        final VethPair.Tool relay = new VethPair.Tool(processes, work, nsRelay, "relay", "relay", "eth0");
        final VethPair.Tool peer = new VethPair.Tool(processes, work, nsPeer, "peer", "peer", PEER);
        // veth delivers what XDP_TX sends only to a peer that runs XDP itself (or has GRO on): the caller's side is
        // a host with a NIC in production; here the peer's end gets a program too, with no entries (it passes all)
        final VethPair.Tool peerSide = new VethPair.Tool(processes, work, nsPeer, "peer-xdp", "relay", "eth0");
        assertEquals("listening", peer.send("listen 7002"));
        assertEquals("ok", relay.send("put " + RELAY + " 20000 " + PEER + " 7000 " + RELAY + " 20002 " + PEER + " 7002 " +
            peerMac + " " + relayMac));

        assertEquals("sent", peer.send("send 7000 " + RELAY + " 20000 100"));
        await("the peer receives the 100 packets the kernel forwarded",
            () -> peer.send("count 7002").equals("100 from " + RELAY + ":20002"));
        assertEquals("packets 100 bytes " + 100 * (14 + 20 + 8 + 172) + " dropped 0", relay.send("counters " + RELAY + " 20000"));

        assertEquals("sent", peer.send("send 7004 " + RELAY + " 20000 10"));
        await("a stranger's packets are dropped in the kernel and counted",
            () -> relay.send("counters " + RELAY + " 20000").endsWith("dropped 10"));
        assertEquals("sent", peer.send("send 7000 " + RELAY + " 20010 10"));
        assertEquals("removed true", relay.send("remove " + RELAY + " 20000"));
        assertEquals("sent", peer.send("send 7000 " + RELAY + " 20000 10"));
        Thread.sleep(300);
        assertEquals("100 from " + RELAY + ":20002", peer.send("count 7002"),
            "nothing forwarded for a port without an entry, a stranger or a removed entry");
        assertEquals("none", relay.send("counters " + RELAY + " 20000"));
        assertEquals("none", peerSide.send("counters " + PEER + " 7002"), "the peer's own program forwards nothing");
    }
}
