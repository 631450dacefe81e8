package io.tandem.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

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

/**
 * The call-lifecycle harness against a real Tandem in this JVM: every call offered, answered and deleted without
 * an error, nothing left behind; and the main job's launcher (README's first command) finds the media plane's jar.
 */
class CallLifecycleTest
{
    @TempDir
    Path dir;

    private MediaPlane plane;
    private NgServer ng;

    @BeforeEach
    void setUp()
    {
        plane = new MediaPlane(new MediaContext()
            .portRange(20500, 20699)
            .sessionsFile(new File(dir.toFile(), "sessions.cm3"))
            .countersFile(new File(dir.toFile(), "counters.dat")));
        ng = new NgServer(new NgContext().listen("127.0.0.1:0").conclude(),
            new NgCommands(plane.registry(), 0, plane.context().maxCalls(), 0), plane.counters());
    }

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(ng, plane);
    }

    @Test
    void everyCallIsOfferedAnsweredAndDeletedWithNothingLeft() throws Exception
    {
        final CallLifecycle.Result result = CallLifecycle.run(ng.localAddress(), 300, 4, 0, ProcessHandle.current().pid());
        assertEquals(0, result.errors());
        assertEquals(300, result.latency()[0].getTotalCount(), "one offer per call");
        assertEquals(300, result.latency()[2].getTotalCount(), "one delete per call");
        assertEquals(0, plane.registry().callCount(), "every call deleted");
        assertEquals(plane.registry().ports().capacity(), plane.registry().ports().available(), "every port back");
        final ByteArrayOutputStream text = new ByteArrayOutputStream();
        CallLifecycle.report("tandem", 4, result, new PrintStream(text, true, StandardCharsets.UTF_8));
        final String report = text.toString(StandardCharsets.UTF_8);
        assertTrue(report.contains("300 calls") && report.contains("offer ") && report.contains("relay CPU"), report);
    }

    @Test
    void aRateSpreadsTheCallsOverTime() throws Exception
    {
        final CallLifecycle.Result result = CallLifecycle.run(ng.localAddress(), 40, 2, 100, -1);
        assertEquals(0, result.errors());
        assertTrue(result.seconds() >= 0.3, "40 calls at 100 a second take about 0.4 s: " + result.seconds());
    }

    /** bin/tandem picks the media plane's jar, not the tests jar beside it (it once picked the tests jar). */
    @Test
    void theMainJobsLauncherStarts() throws Exception
    {
        final Process process = new ProcessBuilder("bin/tandem", "--help").directory(new File(".."))
            .redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "bin/tandem --help ended");
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("Usage: bin/tandem"), output);
    }
}
