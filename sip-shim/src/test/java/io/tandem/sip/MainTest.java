package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** bin/tandem-sip's command line, and the systemd unit's, which must be one it accepts. */
class MainTest
{
    @Test
    void theCommandLineSetsTheContextAndRefusesWhatItDoesNotKnow()
    {
        final SipContext ctx = Main.parse(new String[] {"--listen", "127.0.0.1:5070", "--route", "127.0.0.1:5090",
            "--media-node", "127.0.0.1:2223", "--media-node", "127.0.0.1:2224", "--no-failover-handling"});
        assertEquals(5070, ctx.listenAddress().getPort());
        assertEquals(2, ctx.mediaNodes().size());
        assertFalse(ctx.failoverHandling());
        assertEquals(ctx.listenAddress(), ctx.recordRouteAddress(), "record-routes on its listen address by default");
        assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--route"}));
        assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--rout", "127.0.0.1:5090"}));
        assertTrue(Main.USAGE.contains("--media-node"));
        assertEquals(null, ctx.metricsAddress(), "no metrics listener unless asked");
        assertEquals(9201, Main.parse(new String[] {"--route", "127.0.0.1:5090", "--listen-metrics", "127.0.0.1:9201"})
            .metricsAddress().getPort());
        assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--route", "127.0.0.1:5090",
            "--listen-metrics", "9201"}));
        assertEquals(10_000, ctx.warmUpCalls(), "warms up by default");
        assertEquals(0, Main.parse(new String[] {"--route", "127.0.0.1:5090", "--warm-up-calls", "0"}).warmUpCalls());
        assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--route", "127.0.0.1:5090",
            "--warm-up-calls", "-1"}));
    }

    @Test
    void anHaPairNeedsBothJournalEndpointsAndAKnownRole()
    {
        final SipContext pair = Main.parse(new String[] {"--route", "127.0.0.1:5090", "--journal-listen",
            "10.9.0.1:9710", "--journal-peer", "10.9.0.2:9710", "--role", "standby", "--state-dir", "/tmp/sip-x",
            "--call-expiry", "3600", "--ringing-expiry", "120"});
        assertEquals("aeron:udp?endpoint=10.9.0.1:9710", pair.journal().listenChannel());
        assertFalse(pair.journal().startActive());
        assertEquals(2, pair.journal().clusterId(), "its own cluster id: a media plane's journal is refused");
        assertEquals(3_600_000, pair.callExpiryMs());
        assertEquals(120_000, pair.ringingExpiryMs());
        assertEquals(null, Main.parse(new String[] {"--route", "127.0.0.1:5090"}).journal(), "no peer: no journal");
        assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--route", "127.0.0.1:5090",
            "--journal-listen", "10.9.0.1:9710"}));
        assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--route", "127.0.0.1:5090",
            "--role", "master"}));
        assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--route", "127.0.0.1:5090",
            "--call-expiry", "-5"}));
    }

    @Test
    void theSystemdUnitsCommandLineIsOneTheShimAccepts() throws Exception
    {
        final String unit = Files.readString(Path.of("../tuning/systemd/tandem-sip.service"));
        final String execStart = unit.replace("\\\n", " ").lines()
            .filter((line) -> line.startsWith("ExecStart=")).findFirst().orElseThrow();
        final String[] words = execStart.substring("ExecStart=".length()).trim().split("\\s+");
        assertTrue(words[0].endsWith("/bin/tandem-sip"), execStart);
        final SipContext ctx = Main.parse(Arrays.copyOfRange(words, 1, words.length));
        assertEquals(1, ctx.mediaNodes().size(), "media through the local media plane");
        assertTrue(ctx.failoverHandling());
        assertEquals(9201, ctx.metricsAddress().getPort(), "Prometheus scrapes the shim beside the media plane (9200)");
    }
}
