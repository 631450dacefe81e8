package io.tandem.media.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.tandem.media.MediaPlane;
import io.tandem.media.TestContexts;
import io.tandem.media.session.MediaStream;
import io.tandem.media.session.Monologue;
import io.tandem.media.TestProcesses;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import io.tandem.ng.WebSocket;

/**
 * Real peers: Kamailio 5.6 with its unchanged rtpengine module pointed at Tandem's ng socket, SIPp as caller
 * (playing G.711 A-law RTP from a pcap) and as callee (echoing RTP back). Every call must complete, each side's
 * SDP must point at Tandem, RTP must cross Tandem both ways, and BYE must make Kamailio delete the call in Tandem.
 * The packages come from Debian (kamailio, sip-tester); bin/tandem-test installs them when missing.
 */
class KamailioSippTest
{
    private static final int CALLS = 3;
    private static final int MEDIA_MIN = 20200;
    private static final int MEDIA_MAX = 20299;
    private static final String MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules/";
    private static final String PCAP = "/usr/share/sip-tester/g711a.pcap";

    @TempDir
    Path dir;

    private MediaPlane plane;
    private NgServer ng;
    private NgWebSocketServer ws;
    private final TestProcesses processes = new TestProcesses();

    @AfterEach
    void tearDown() throws InterruptedException
    {
        processes.close();
        CloseHelper.quietCloseAll(ws, ng, plane);
    }

    /** Distinct free UDP ports: all held open together while chosen, so none is handed out twice. */
    private static int[] freeUdpPorts(final int count) throws IOException
    {
        final DatagramSocket[] sockets = new DatagramSocket[count];
        final int[] ports = new int[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                sockets[i] = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                ports[i] = sockets[i].getLocalPort();
            }
        }
        finally
        {
            CloseHelper.quietCloseAll(sockets);
        }
        return ports;
    }

    /** Whether some socket is bound to UDP {@code port}, read from /proc/net/udp (probing by binding would race). */
    private static boolean udpBound(final int port) throws IOException
    {
        final String hex = String.format(":%04X ", port);
        for (final String table : List.of("/proc/net/udp", "/proc/net/udp6"))
        {
            final Path path = Path.of(table);
            if (Files.exists(path) && Files.readAllLines(path).stream().anyMatch((line) -> line.contains(hex)))
            {
                return true;
            }
        }
        return false;
    }

    /** Wait until some process has bound {@code port}: the peer started there is ready to receive. */
    private void awaitBound(final int port, final String what) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!udpBound(port))
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError(what + " never bound port " + port + ":\n" + log(what + ".log"));
            }
            Thread.sleep(50);
        }
    }

    private static void require(final String command, final String file)
    {
        io.tandem.media.TestProcesses.need(new File(file).exists(), command + " is not installed (" + file + " missing)");
    }

    private Process start(final String name, final List<String> command) throws IOException
    {
        return processes.start(dir.resolve(name + ".log"), dir, command);
    }

    private String log(final String name) throws IOException
    {
        final Path path = dir.resolve(name);
        return Files.exists(path) ? Files.readString(path, StandardCharsets.ISO_8859_1) : "(no " + name + ")";
    }

    private void awaitLog(final String name, final String text) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!log(name).contains(text))
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("'" + text + "' never appeared in " + name + ":\n" + log(name));
            }
            Thread.sleep(100);
        }
    }

    /**
     * @param transport how Kamailio's rtpengine module reaches Tandem: {@code udp} (the usual), or {@code ws}
     *                  (WebSocket through Kamailio's lwsc module, package kamailio-lwsc-modules).
     */
    @ParameterizedTest
    @ValueSource(strings = {"udp", "ws"})
    void callsThroughKamailioRelayMediaThroughTandemAndEndOnBye(final String transport) throws Exception
    {
        require("kamailio", "/usr/sbin/kamailio");
        require("kamailio's rtpengine module", MODULES + "rtpengine.so");
        require("sipp (package sip-tester)", "/usr/bin/sipp");

        plane = new MediaPlane(TestContexts.media(dir)
            .portRange(MEDIA_MIN, MEDIA_MAX));
        final Map<String, Map<String, Long>> packetsByCallAndTag = new ConcurrentHashMap<>();
        plane.registry().onCallEnded((call) ->
        {
            final Map<String, Long> byTag = new ConcurrentHashMap<>();
            for (final Monologue monologue : call.monologues().values())
            {
                long packets = 0;
                for (final MediaStream stream : monologue.streams())
                {
                    packets += stream.rtpPacketsReceived();
                }
                byTag.put(monologue.tag(), packets);
            }
            packetsByCallAndTag.put(call.callId(), byTag);
        });
        final NgContext ngContext = new NgContext().listen("127.0.0.1:0").listenWs("127.0.0.1:0").conclude();
        final NgCommands commands = new NgCommands(plane.registry(), 0, plane.context().maxCalls(), plane.context().deleteDelayNs());
        final String ngSock; // only the socket Kamailio is told to use exists, so no request can take another way
        final String extraModules;
        final String extraParams;
        if (transport.equals("ws"))
        {
            require("kamailio's lwsc module (package kamailio-lwsc-modules)", MODULES + "lwsc.so");
            ws = new NgWebSocketServer(ngContext, commands, plane.counters());
            ngSock = "ws://127.0.0.1:" + ws.localAddress().getPort() + "/ng";
            extraModules = "loadmodule \"lwsc.so\"";
            extraParams = "modparam(\"rtpengine\", \"wsapi\", \"lwsc\")";
        }
        else
        {
            ng = new NgServer(ngContext, commands, plane.counters());
            ngSock = "udp:127.0.0.1:" + ng.localAddress().getPort();
            extraModules = "";
            extraParams = "";
        }

        final int[] ports = freeUdpPorts(3);
        final int kamailioPort = ports[0];
        final int uasPort = ports[1];
        final int uacPort = ports[2];
        final String cfg = Files.readString(Path.of("src/test/resources/kamailio/tandem-proxy.cfg"))
            .replace("@KAMAILIO_PORT@", Integer.toString(kamailioPort))
            .replace("@NG_SOCK@", ngSock)
            .replace("@EXTRA_MODULES@", extraModules)
            .replace("@EXTRA_PARAMS@", extraParams)
            .replace("@UAS_PORT@", Integer.toString(uasPort))
            .replace("@MODULES@", MODULES);
        Files.writeString(dir.resolve("kamailio.cfg"), cfg);
        Files.copy(Path.of("src/test/resources/sipp/uas-g711a.xml"), dir.resolve("uas.xml"));
        Files.writeString(dir.resolve("uac.xml"), Files.readString(Path.of("src/test/resources/sipp/uac-g711a.xml"))
            .replace("@PCAP@", PCAP));

        start("kamailio", List.of("timeout", "120", "/usr/sbin/kamailio", "-f", dir.resolve("kamailio.cfg").toString(),
            "-DD", "-E", "-m", "64", "-M", "8", "-Y", dir.toString(), "-P", dir.resolve("kamailio.pid").toString()));
        awaitLog("kamailio.log", "INFO: <core> [main.c");
        awaitBound(kamailioPort, "kamailio");
        start("uas", List.of("timeout", "120", "sipp", "-sf", dir.resolve("uas.xml").toString(), "-i", "127.0.0.1", "-p", Integer.toString(uasPort),
            "-mi", "127.0.0.1", "-mp", "21600", "-rtp_echo", "-nostdin", "-trace_msg", "-message_file",
            dir.resolve("uas-messages.log").toString()));
        awaitBound(uasPort, "uas");
        final Process uac = start("uac", List.of("timeout", "90", "sipp", "127.0.0.1:" + kamailioPort,
            "-sf", dir.resolve("uac.xml").toString(), "-i", "127.0.0.1", "-p", Integer.toString(uacPort),
            "-mi", "127.0.0.1", "-mp", "21700", "-m", Integer.toString(CALLS), "-r", "2", "-l", Integer.toString(CALLS),
            "-timeout", "60s", "-timeout_error", "-nostdin", "-trace_msg", "-message_file",
            dir.resolve("uac-messages.log").toString(), "-trace_err", "-error_file", dir.resolve("uac-errors.log").toString()));
        assertTrue(uac.waitFor(100, TimeUnit.SECONDS), "SIPp UAC did not finish");
        assertEquals(0, uac.exitValue(), "every call must succeed; UAC errors:\n" + log("uac-errors.log") +
            "\nUAS messages:\n" + log("uas-messages.log") + "\nUAS output:\n" + log("uas.log") +
            "\nkamailio:\n" + log("kamailio.log"));

        // The SDP each side saw points at Tandem: the callee's INVITEs and the caller's 200 OKs.
        final List<Integer> calleeSees = audioPorts(log("uas-messages.log"), "INVITE sip:");
        final List<Integer> callerSees = audioPorts(log("uac-messages.log"), "SIP/2.0 200 OK");
        assertEquals(CALLS, calleeSees.size(), log("uas-messages.log"));
        assertTrue(callerSees.size() >= CALLS, log("uac-messages.log"));
        for (final int port : concat(calleeSees, callerSees))
        {
            assertTrue(port >= MEDIA_MIN && port <= MEDIA_MAX, "SDP points at port " + port + ", not at Tandem; kamailio:\n" +
                log("kamailio.log"));
        }

        // BYE made Kamailio send delete: every call ended, with RTP received from both parties.
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (plane.registry().callCount() > 0 && System.nanoTime() - deadline < 0)
        {
            Thread.sleep(50);
        }
        assertEquals(0, plane.registry().callCount(), "calls left in Tandem after BYE");
        assertEquals(plane.registry().ports().capacity(), plane.registry().ports().available(), "ports freed");
        assertEquals(CALLS, packetsByCallAndTag.size(), String.valueOf(packetsByCallAndTag));
        for (final Map.Entry<String, Map<String, Long>> call : packetsByCallAndTag.entrySet())
        {
            assertEquals(2, call.getValue().size(), "two parties in " + call);
            for (final Map.Entry<String, Long> party : call.getValue().entrySet())
            {
                assertTrue(party.getValue() > 0, "no RTP from party " + party.getKey() + " of call " + call.getKey());
            }
        }
        assertTrue(plane.counters().txPackets.get() > 0);
        assertEquals(0, plane.counters().ngErrors.get(), "Kamailio's requests all succeeded");
    }

    private static List<Integer> concat(final List<Integer> a, final List<Integer> b)
    {
        final List<Integer> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** The m=audio ports in SDP bodies of the messages whose start line begins with {@code startLine}. */
    private static List<Integer> audioPorts(final String messages, final String startLine)
    {
        final List<Integer> ports = new ArrayList<>();
        final Matcher m = Pattern.compile("(?m)^" + Pattern.quote(startLine) + "[\\s\\S]*?^m=audio (\\d+) ").matcher(messages);
        while (m.find())
        {
            ports.add(Integer.parseInt(m.group(1)));
        }
        return ports;
    }
}
