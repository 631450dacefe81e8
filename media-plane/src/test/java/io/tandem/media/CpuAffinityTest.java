package io.tandem.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import io.tandem.media.relay.CpuAffinity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuAffinityTest
{
    @TempDir
    Path dir;

    private static String allowedCpus(final int tid) throws Exception
    {
        for (final String line : Files.readAllLines(Path.of("/proc/self/task/" + tid + "/status")))
        {
            if (line.startsWith("Cpus_allowed_list:"))
            {
                return line.substring("Cpus_allowed_list:".length()).trim();
            }
        }
        throw new AssertionError("no Cpus_allowed_list for thread " + tid);
    }

    @Test
    void theForwardingAgentRunsPinnedToTheConfiguredCpu() throws Exception
    {
        final int cpu = Runtime.getRuntime().availableProcessors() - 1;
        try (MediaPlane plane = new MediaPlane(TestContexts.media(dir)
            .portRange(29000, 29099)
            .forwarderCpu(cpu)))
        {
            assertEquals(0, plane.registry().publishedEndpoints()); // a round trip through the agent: it has started
            final int tid = plane.forwarderNativeThreadId();
            assertTrue(tid > 0);
            assertEquals(Integer.toString(cpu), allowedCpus(tid));
            assertTrue(!allowedCpus(CpuAffinity.currentThreadId()).equals(Integer.toString(cpu)) ||
                Runtime.getRuntime().availableProcessors() == 1, "only the agent thread is pinned");
        }
    }
}
