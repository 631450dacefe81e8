package io.tandem.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import io.tandem.media.MediaContext;
import io.tandem.media.MediaPlane;
import io.tandem.media.control.NgCommands;
import io.tandem.media.control.NgContext;
import io.tandem.media.control.NgServer;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The load harness works end to end against a real Tandem (in this JVM): calls set up, RTP relayed, calls deleted. */
class LoadHarnessTest
{
    @TempDir
    Path dir;

    private MediaPlane plane;
    private NgServer ng;

    @BeforeEach
    void setUp()
    {
        plane = new MediaPlane(new MediaContext()
            .portRange(20400, 20499)
            .sessionsFile(new File(dir.toFile(), "sessions.cm3"))
            .countersFile(new File(dir.toFile(), "counters.dat")));
        ng = new NgServer(new NgContext().listen("127.0.0.1:0").conclude(), new NgCommands(plane.registry(), 0, plane.context().maxCalls(), plane.context().deleteDelayNs()), plane.counters());
    }

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(ng, plane);
    }

    private LoadOptions options(final boolean closedLoop)
    {
        return new LoadOptions(ng.localAddress(), "127.0.0.1", 5, 500, 1, 0.2, closedLoop, 1, false, -1,
            dir.resolve("load.hlog").toFile(), dir.resolve("load.html").toFile(), "tandem", ProcessHandle.current().pid());
    }

    @Test
    void pacedRunRelaysEveryPacketAndReports() throws Exception
    {
        final LoadHarness harness = new LoadHarness(options(false));
        harness.setUpCalls();
        assertEquals(5, plane.registry().callCount());
        final LoadResult result = harness.runPaced(500);
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        harness.report(result, new PrintStream(out, true, StandardCharsets.UTF_8));
        harness.writeOutputs(result);
        harness.tearDown();

        assertTrue(result.sent() > 0);
        assertTrue(result.keptPace(), "500 packets/s is within any generator's pace: " + result.lagMs() + " ms behind");
        assertEquals(result.sent(), result.received(), "no loss at 500 packets/s on loopback");
        assertEquals(result.received(), result.latency().getTotalCount());
        assertTrue(result.maxGapNs() >= 10_000_000 && result.maxGapNs() < 1_000_000_000L,
            "10 streams at 50 packets/s each: about 20 ms between two packets of one stream: " + result.maxGapNs());
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("largest gap"), out.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("loss 0.000%"), out.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("relay CPU:"), out.toString(StandardCharsets.UTF_8));
        assertTrue(Files.readString(dir.resolve("load.hlog")).contains("#[StartTime:"));
        assertTrue(Files.readString(dir.resolve("load.html")).contains("<svg"));
        assertEquals(0, plane.registry().callCount(), "the harness deletes its calls");
    }

    @Test
    void aGeneratorThatFellBehindSaysSoInsteadOfBlamingTheRelay()
    {
        final LoadHarness harness = new LoadHarness(options(false));
        final LoadResult behind = new LoadResult(1000, 1000, 1, new org.HdrHistogram.Histogram(3), -1, 250, 0);
        assertTrue(!behind.keptPace(), "250 ms behind in a 1 s run");
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        harness.report(behind, new PrintStream(out, true, StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("the generator fell 250 ms behind"), out.toString(StandardCharsets.UTF_8));
        assertTrue(new LoadResult(1000, 1000, 1, new org.HdrHistogram.Histogram(3), -1, 5, 0).keptPace());
    }

    @Test
    void closedLoopKeepsOnePacketInFlightPerStream() throws Exception
    {
        final LoadHarness harness = new LoadHarness(options(true));
        harness.setUpCalls();
        final LoadResult result = harness.runClosedLoop();
        harness.tearDown();
        assertTrue(result.received() > 100, "packets went round: " + result.received());
        assertTrue(result.received() <= result.sent() + 10, result.toString());
    }
}
