package io.tandem.media.relay;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.tandem.media.TestProcesses;

/**
 * Two network namespaces a test creates, joined by a veth pair (native XDP works on veth), each end called eth0
 * with its address and up; {@link #close()} removes both. {@link Tool} runs {@link XdpTool} (or Tandem's ng driver)
 * in one of them.
 */
final class VethPair implements AutoCloseable
{
    final String nsA;
    final String nsB;

    /** @param prefix a few letters naming the test: namespaces and links are PREFIX-a-PID, PREFIX-b-PID */
    VethPair(final String prefix, final String addressA, final String addressB) throws Exception
    {
        final String suffix = Long.toString(ProcessHandle.current().pid() % 100000);
        nsA = prefix + "-a-" + suffix;
        nsB = prefix + "-b-" + suffix;
        run("ip", "netns", "add", nsA);
        run("ip", "netns", "add", nsB);
        run("ip", "link", "add", prefix + "a" + suffix, "type", "veth", "peer", "name", prefix + "b" + suffix);
        run("ip", "link", "set", prefix + "a" + suffix, "netns", nsA);
        run("ip", "link", "set", prefix + "b" + suffix, "netns", nsB);
        run("ip", "-n", nsA, "link", "set", prefix + "a" + suffix, "name", "eth0");
        run("ip", "-n", nsB, "link", "set", prefix + "b" + suffix, "name", "eth0");
        run("ip", "-n", nsA, "addr", "add", addressA + "/24", "dev", "eth0");
        run("ip", "-n", nsB, "addr", "add", addressB + "/24", "dev", "eth0");
        for (final String ns : List.of(nsA, nsB))
        {
            run("ip", "-n", ns, "link", "set", "eth0", "up");
            run("ip", "-n", ns, "link", "set", "lo", "up");
        }
    }

    private static void run(final String... command) throws Exception
    {
        TestProcesses.run(true, command);
    }

    /** The Ethernet address of a namespace's eth0. */
    static String mac(final String ns) throws Exception
    {
        final Matcher m = Pattern.compile("link/ether ([0-9a-f:]{17})").matcher(
            TestProcesses.run(true, "ip", "-n", ns, "link", "show", "eth0"));
        if (!m.find())
        {
            throw new AssertionError("no Ethernet address on eth0 in " + ns);
        }
        return m.group(1);
    }

    @Override
    public void close() throws Exception
    {
        TestProcesses.run(false, "ip", "netns", "del", nsA);
        TestProcesses.run(false, "ip", "netns", "del", nsB);
    }

    /** {@link XdpTool} in a namespace, one command line in, one answer line out; its errors in NAME.err. */
    static final class Tool
    {
        private final PrintStream commands;
        private final BufferedReader replies;

        Tool(final TestProcesses processes, final Path work, final String ns, final String name, final String... args)
            throws IOException
        {
            final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns, "timeout", "120"));
            command.addAll(TestProcesses.java(XdpTool.class, args));
            final Process process = processes.start(work.resolve(name + ".err"), null, command, true);
            commands = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
            replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            final String first = replies.readLine();
            if (!"ready".equals(first))
            {
                throw new AssertionError(name + " did not start (see " + work.resolve(name + ".err") + "): " + first);
            }
        }

        String send(final String line)
        {
            commands.println(line);
            try
            {
                return replies.readLine();
            }
            catch (final IOException ex)
            {
                throw new AssertionError(ex);
            }
        }

        /** A peer's count of packets received on a port. */
        long count(final int port)
        {
            return Long.parseLong(send("count " + port).split(" ")[0]);
        }
    }
}
