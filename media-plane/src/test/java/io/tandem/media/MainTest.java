package io.tandem.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class MainTest
{
    @Test
    void optionsOverrideTheEmbeddedDefaults()
    {
        final Main.Options options = Main.parse(new String[] {
            "--bind", "127.0.0.1", "--ports", "20000-20999", "--idle", "busy-spin", "--timeout", "30",
            "--transport", "nio", "--freebind", "--listen-http", "127.0.0.1:8080", "--listen-ws-ng", "127.0.0.1:8081", "--call", "c1,127.0.0.1:5000,127.0.0.1:5002"});
        final MediaContext ctx = options.context();
        assertEquals(20000, ctx.portMin());
        assertEquals(20999, ctx.portMax());
        assertEquals("busy-spin", ctx.idleName());
        assertEquals(TimeUnit.SECONDS.toNanos(30), ctx.timeoutNs());
        assertEquals("nio", ctx.transportName());
        assertTrue(ctx.freebind());
        assertEquals(new InetSocketAddress("127.0.0.1", 8080), options.ng().listenHttpAddress());
        assertEquals(new InetSocketAddress("127.0.0.1", 8081), options.ng().listenWsAddress());
        assertEquals(new Main.StaticCall("c1", new InetSocketAddress("127.0.0.1", 5000),
            new InetSocketAddress("127.0.0.1", 5002)), options.calls().get(0));
    }

    @Test
    void aConfigurationFileGivesDefaultsTheCommandLineOverrides(@org.junit.jupiter.api.io.TempDir final java.nio.file.Path dir)
        throws Exception
    {
        final java.nio.file.Path file = dir.resolve("tandem.conf");
        java.nio.file.Files.writeString(file, String.join("\n",
            "# Tandem on an SBC, rtpengine.conf style",
            "[tandem]",
            "interface = external/127.0.0.1!203.0.113.5/30000-30999",
            "interface = internal/127.0.0.2/30000-30999",
            "; comments either way",
            "ports = 20000-20999",
            "idle = blocking",
            "freebind = yes",
            "listen-ng = 127.0.0.1:2299",
            ""));
        final Main.Options options = Main.parse(new String[] {"--config", file.toString(), "--idle", "busy-spin"});
        final MediaContext ctx = options.context();
        assertEquals(2, ctx.interfaceSpecs().size());
        assertEquals("203.0.113.5", ctx.interfaceSpecs().get(0).advertisedAddress());
        assertEquals("busy-spin", ctx.idleName(), "the command line wins");
        assertTrue(ctx.freebind());
        assertEquals(new InetSocketAddress("127.0.0.1", 2299), options.ng().listenAddress());

        java.nio.file.Files.writeString(file, "ports 20000-20999\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--config", file.toString()}))
            .getMessage().contains("line 1: expected NAME = VALUE"));
        java.nio.file.Files.writeString(file, "freebind = maybe\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--config", file.toString()}))
            .getMessage().contains("freebind is yes or no"));
        java.nio.file.Files.writeString(file, "bogus = 1\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--config", file.toString()}))
            .getMessage().contains("unknown option --bogus"));
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> Main.parse(new String[] {"--config", dir.resolve("missing.conf").toString()}))
            .getMessage().contains("cannot read the configuration file"));
    }

    @Test
    void badOptionsSayWhatIsWrong()
    {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--ports", "30000"}))
            .getMessage().contains("MIN-MAX"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--bogus", "1"}))
            .getMessage().contains("unknown option --bogus"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--idle"}))
            .getMessage().contains("--idle needs a value"));
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> Main.parse(new String[] {"--call", "c1,127.0.0.1:5000"})).getMessage().contains("--call takes"));
    }

    @Test
    void theJournalTakesAeronChannelsInsteadOfEndpoints()
    {
        final MediaContext ctx = Main.parse(new String[] {
            "--journal-listen-channel", "aeron:udp?endpoint=127.0.0.1:7400",
            "--journal-peer-channel", "aeron:udp?control=127.0.0.1:7401|control-mode=dynamic"}).context();
        assertTrue(ctx.journaled());
        assertEquals("aeron:udp?control=127.0.0.1:7401|control-mode=dynamic", ctx.journalPeerChannel());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {
            "--journal-listen-channel", "aeron:udp?endpoint=127.0.0.1:7400"})).getMessage().contains("--journal-peer"));
        assertTrue(Main.parse(new String[] {"--journal-listen", "127.0.0.1:7400", "--journal-peer-channel",
            "aeron:udp?endpoint=127.0.0.1:7410"}).context().journaled(), "an endpoint one way, a channel the other");
    }

    @Test
    void helpNamesEveryOption()
    {
        assertTrue(Main.parse(new String[] {"--help"}).help());
        for (final String option : new String[] {"--bind", "--advertise", "--ports", "--sessions", "--counters",
            "--max-calls", "--idle", "--endpoint-learning", "--timeout", "--final-timeout", "--silent-timeout", "--delete-delay", "--call", "--interface",
            "--forwarder-cpu", "--listen-ng", "--listen-tcp-ng", "--ng-allow", "--max-sessions", "--role", "--journal-listen",
            "--journal-peer", "--journal-listen-channel", "--journal-peer-channel", "--journal-cluster", "--aeron-dir"})
        {
            assertTrue(Main.USAGE.contains(option), option);
        }
    }

    @Test
    void theStateJournalsEndpointsAreGuardedAgainstSdpPointingAtThem()
    {
        final MediaContext journaled = new MediaContext().journal("10.9.0.1:7400", "10.9.0.2:7400");
        assertEquals(List.of(new InetSocketAddress("10.9.0.1", 7400),
            new InetSocketAddress("10.9.0.1", 7401)), Main.journalEndpoints(journaled),
            "where it listens and the port it sends from");
        assertEquals(List.of(), Main.journalEndpoints(new MediaContext()));
    }
}
