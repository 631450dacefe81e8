package io.tandem.sip;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

/**
 * Processes a SIP test starts (SIPp, a media plane, a shim, RTP parties), each under a timeout, all stopped by
 * {@link #close()}, on failure too.
 */
final class SipProcesses implements AutoCloseable
{
    private final List<Process> started = new ArrayList<>();

    /** The java command with the project's JVM flags (.mvn/jvm-flags: Aeron and Chronicle need them on Java 25). */
    private static List<String> java() throws IOException
    {
        final List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
            .toString()));
        for (final String line : Files.readAllLines(Path.of("..", ".mvn", "jvm-flags")))
        {
            if (!line.isBlank() && !line.startsWith("#"))
            {
                command.add(line.trim());
            }
        }
        return command;
    }

    /** The media plane's java command, from its packaged jar (built before this module in the reactor). */
    static List<String> mediaPlane(final String... args) throws IOException
    {
        final Path target = Path.of("..", "media-plane", "target");
        final Path jar;
        try (Stream<Path> files = Files.exists(target) ? Files.list(target) : Stream.empty())
        {
            jar = files.filter((f) -> f.getFileName().toString().matches("media-plane-.*\\.jar") &&
                !f.getFileName().toString().endsWith("-tests.jar")).findFirst().orElse(null);
        }
        Assumptions.assumeTrue(jar != null && Files.isDirectory(target.resolve("lib")),
            "the media plane is not packaged (run the whole build: mvn verify)");
        final List<String> command = new ArrayList<>(List.of("timeout", "120"));
        command.addAll(java());
        command.addAll(List.of("-cp", jar.toAbsolutePath() + ":" + target.resolve("lib").toAbsolutePath() + "/*",
            "io.tandem.media.Main"));
        command.addAll(List.of(args));
        return command;
    }

    /** A main class of this module (the shim, a test tool) as its own process, on the tests' class path. */
    static List<String> java(final Class<?> main, final String... args) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of("timeout", "120"));
        command.addAll(java());
        command.addAll(List.of("-cp", System.getProperty("surefire.test.class.path",
            System.getProperty("java.class.path")), main.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /** Skip (with the reason) unless this runs as root; CI runs as root and runs the test. */
    static void needRoot(final String what)
    {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), what + " needs root: skipped");
    }

    /**
     * Run a short command (ip, tandemctl, arping) to its end, at most 30 s. @return its output (stdout and stderr)
     * @param check fail the test if it exits non-zero
     */
    static String run(final boolean check, final String... command) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
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

    /** SIGKILL the JVM a process started (under timeout and ip netns exec), as when its host dies. */
    static List<ProcessHandle> kill(final Process process)
    {
        final List<ProcessHandle> killed = new ArrayList<>(process.descendants().toList());
        killed.add(process.toHandle());
        killed.forEach(ProcessHandle::destroyForcibly);
        return killed;
    }

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

    /**
     * SIPp in {@code dir} (its scenarios copied there) under a 60 s timeout, tracing its messages to
     * {@code NAME-messages.log} and its output to {@code NAME.log}.
     */
    Process sipp(final Path dir, final String name, final List<String> args) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of("timeout", "60", "sipp"));
        command.addAll(args);
        command.addAll(List.of("-nostdin", "-trace_msg", "-message_file", dir.resolve(name + "-messages.log").toString()));
        return start(dir.resolve(name + ".log"), dir, command);
    }

    /** Copy SIPp scenarios from the test resources into {@code dir}. */
    static void scenarios(final Path dir, final String... names) throws IOException
    {
        for (final String name : names)
        {
            Files.copy(Path.of("src/test/resources/sipp/" + name), dir.resolve(name));
        }
    }

    /** A process started elsewhere (its streams piped to the test), stopped with the others. */
    void adopt(final Process process)
    {
        started.add(process);
    }

    /** A file a process or SIPp wrote in {@code dir}, or a note that it is not there. */
    static String log(final Path dir, final String name) throws IOException
    {
        final Path path = dir.resolve(name);
        return Files.exists(path) ? Files.readString(path, StandardCharsets.ISO_8859_1) : "(no " + name + ")";
    }

    /** The audio port of each SDP in a SIPp message log, of the messages whose first line starts so. */
    static List<Integer> audioPorts(final String messages, final String firstLine)
    {
        final List<Integer> ports = new ArrayList<>();
        for (final String message : messages.split("-{20,}"))
        {
            if (message.contains("\n" + firstLine) || message.contains("\r\n" + firstLine))
            {
                final Matcher m = Pattern.compile("m=audio (\\d+) ").matcher(message);
                if (m.find())
                {
                    ports.add(Integer.parseInt(m.group(1)));
                }
            }
        }
        return ports;
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
