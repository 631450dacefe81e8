package io.tandem.media;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.DatagramPacket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The main job as its own process: start-up output, relaying, SIGTERM, and kill -9 followed by a restart. */
class MainProcessTest
{
    private static final Pattern CALL_LINE = Pattern.compile("call c1: A .* sends to 127\\.0\\.0\\.1:(\\d+), B .* sends to 127\\.0\\.0\\.1:(\\d+)");

    @TempDir
    Path dir;

    private final TestProcesses processes = new TestProcesses();
    private RtpPeer alice;
    private RtpPeer bob;

    @AfterEach
    void tearDown() throws InterruptedException
    {
        processes.close();
        CloseHelper.quietCloseAll(alice, bob);
    }

    /** Start Tandem's main class in a new JVM with the project's JVM flags, its output going to {@code log}. */
    private Process start(final Path log, final String... args) throws IOException
    {
        return processes.start(log, TestProcesses.java(Main.class, args));
    }

    /** @return the first line of the log that starts with {@code prefix}, waiting up to a minute for it. */
    private static String await(final Path log, final String prefix) throws IOException, InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<String> lines = List.of();
        while (System.nanoTime() - deadline < 0)
        {
            final String text = Files.readString(log, StandardCharsets.UTF_8);
            lines = List.of(text.substring(0, text.lastIndexOf('\n') + 1).split("\n")); // whole lines only
            for (final String line : lines)
            {
                if (line.startsWith(prefix))
                {
                    return line;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no line starting with '" + prefix + "'; output was:\n" + String.join("\n", lines));
    }

    private void relayOnce(final int sequence, final int aliceSendsTo, final int bobSendsTo) throws IOException
    {
        final byte[] fromAlice = alice.rtp(sequence);
        alice.send(fromAlice, aliceSendsTo);
        final DatagramPacket atBob = bob.receive();
        assertNotNull(atBob, "no packet relayed to Bob");
        assertArrayEquals(fromAlice, RtpPeer.data(atBob));
        final byte[] fromBob = bob.rtp(sequence);
        bob.send(fromBob, bobSendsTo);
        final DatagramPacket atAlice = alice.receive();
        assertNotNull(atAlice, "no packet relayed to Alice");
        assertArrayEquals(fromBob, RtpPeer.data(atAlice));
    }

    @Test
    void runsUntilSigtermAndSurvivesKillMinusNine() throws Exception
    {
        alice = new RtpPeer(1);
        bob = new RtpPeer(2);
        final File sessions = new File(dir.toFile(), "sessions.cm3");
        final String[] args = {"--ports", "22000-22099", "--listen-ng", "127.0.0.1:0", "--sessions", sessions.getPath(),
            "--counters", new File(dir.toFile(), "counters.dat").getPath(), "--timeout", "0",
            "--call", "c1,127.0.0.1:" + alice.address().getPort() + ",127.0.0.1:" + bob.address().getPort()};

        final Path first = dir.resolve("first.log");
        final Process killed = start(first, args);
        assertEquals("tandem: media interface default/127.0.0.1/22000-22099", await(first, "tandem: media interface"));
        assertTrue(await(first, "tandem: ng control on udp 127.0.0.1:").contains("allowed from [127.0.0.0/8, 0:0:0:0:0:0:0:1/128]"));
        final Matcher ports = CALL_LINE.matcher(await(first, "call c1:"));
        assertTrue(ports.find());
        final int aliceSendsTo = Integer.parseInt(ports.group(1));
        final int bobSendsTo = Integer.parseInt(ports.group(2));
        await(first, "tandem: running");
        relayOnce(1, aliceSendsTo, bobSendsTo);

        killed.destroyForcibly();
        assertTrue(killed.waitFor(10, TimeUnit.SECONDS));
        assertTrue(new File(sessions.getPath() + ".open").exists(), "a killed process cannot close its sessions file");

        final String[] withoutCall = List.of(args).subList(0, args.length - 2).toArray(new String[0]);
        final Path second = dir.resolve("second.log");
        final Process restarted = start(second, withoutCall);
        assertTrue(await(second, "tandem: sessions ").contains("(1 calls restored)"));
        await(second, "tandem: running");
        relayOnce(2, aliceSendsTo, bobSendsTo);

        restarted.destroy(); // SIGTERM
        assertTrue(restarted.waitFor(30, TimeUnit.SECONDS), "Tandem did not stop on SIGTERM");
        await(second, "tandem: stopped");
        assertEquals(143, restarted.exitValue());
        assertFalse(new File(sessions.getPath() + ".open").exists(), "a clean stop closes the sessions file");
    }
}
