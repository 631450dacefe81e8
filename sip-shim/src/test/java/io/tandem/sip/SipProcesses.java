package io.tandem.sip;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/** Processes a SIP test starts (SIPp), each under a timeout, all stopped by {@link #close()}, on failure too. */
final class SipProcesses implements AutoCloseable
{
    private final List<Process> started = new ArrayList<>();

    /** Skip (with the reason) where a tool is missing; CI installs it (.ci/run) and runs the test. */
    static void need(final String file, final String packageName)
    {
        Assumptions.assumeTrue(new File(file).exists(), file + " is not installed (package " + packageName + ")");
    }

    Process start(final Path log, final Path dir, final List<String> command) throws IOException
    {
        final Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(log.toFile()).start();
        started.add(process);
        return process;
    }

    /** A file a process or SIPp wrote in {@code dir}, or a note that it is not there. */
    static String log(final Path dir, final String name) throws IOException
    {
        final Path path = dir.resolve(name);
        return java.nio.file.Files.exists(path) ?
            java.nio.file.Files.readString(path, java.nio.charset.StandardCharsets.ISO_8859_1) : "(no " + name + ")";
    }

    /** Wait (up to {@code seconds}) until a file in {@code dir} holds {@code text}. */
    static void awaitText(final Path dir, final String name, final String text, final int seconds) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!log(dir, name).contains(text))
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("'" + text + "' never appeared in " + name + ":\n" + log(dir, name));
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() throws InterruptedException
    {
        for (final Process process : started)
        {
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
        }
        for (final Process process : started)
        {
            if (!process.waitFor(5, TimeUnit.SECONDS))
            {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }
}
