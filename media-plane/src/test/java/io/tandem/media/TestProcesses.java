package io.tandem.media;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Processes that tests start (Tandem in its own JVM, Kamailio, SIPp, keepalived): each writes to a log file,
 * reads nothing, and is stopped, with its children, by {@link #close()} in the test's teardown.
 */
public final class TestProcesses implements AutoCloseable
{
    /** The project's top directory: tests run in their module's directory. */
    public static final Path REPO = Path.of("..").toAbsolutePath().normalize();

    private final List<Process> processes = new ArrayList<>();

    /** A command that runs {@code mainClass} in a new JVM with the project's JVM flags and this test's classpath. */
    public static List<String> java(final Class<?> mainClass, final String... args)
    {
        final List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        try
        {
            for (final String flag : Files.readAllLines(REPO.resolve(".mvn/jvm-flags")))
            {
                if (!flag.isBlank() && !flag.startsWith("#"))
                {
                    command.add(flag.trim());
                }
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        return command;
    }

    /** Start a process whose output (stdout and stderr) goes to {@code log}. */
    public Process start(final Path log, final List<String> command) throws IOException
    {
        return start(log, null, command);
    }

    public Process start(final Path log, final Path directory, final List<String> command) throws IOException
    {
        return start(log, directory, command, false);
    }

    /**
     * @param piped the test talks to the process: its standard input and output stay pipes, and only its
     *              standard error goes to {@code log}
     */
    public Process start(final Path log, final Path directory, final List<String> command, final boolean piped)
        throws IOException
    {
        final ProcessBuilder builder = piped ? new ProcessBuilder(command).redirectError(log.toFile()) :
            new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        if (directory != null)
        {
            builder.directory(directory.toFile());
        }
        final Process process = builder.start();
        processes.add(process);
        return process;
    }

    /**
     * What an integration test needs (root for network namespaces, a Debian package): on a developer's machine
     * without it the test is skipped, saying why; in CI (CI=true, where bin/tandem-test installs every package and
     * runs as root) a missing need fails the test, so nothing is skipped there unseen.
     */
    public static void need(final boolean present, final String what)
    {
        if (present)
        {
            return;
        }
        if ("true".equals(System.getenv("CI")))
        {
            throw new AssertionError(what + " (CI runs every test; bin/tandem-test installs the packages as root)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(false, what + ": skipped; run bin/tandem-test as root");
    }

    /** Whether this process runs as root (network namespaces need it). */
    public static boolean root()
    {
        return "root".equals(System.getProperty("user.name"));
    }

    /**
     * Run a short command (ip, tandemctl, arping) to its end, at most 30 s. @return its output (stdout and stderr)
     * @param check fail the test if it exits non-zero
     */
    public static String run(final boolean check, final String... command) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String out = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", command));
        }
        if (check && process.exitValue() != 0)
        {
            throw new AssertionError(String.join(" ", command) + " failed (" + process.exitValue() + "): " + out);
        }
        return out;
    }

    /** The processes started so far, in order (including those that have ended). */
    public List<Process> started()
    {
        return List.copyOf(processes);
    }

    /** SIGTERM to every process and its children, then SIGKILL to what is left after 10 s. */
    @Override
    public void close() throws InterruptedException
    {
        for (final Process process : processes)
        {
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
        }
        for (final Process process : processes)
        {
            if (!process.waitFor(10, TimeUnit.SECONDS))
            {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        processes.clear();
    }
}
