package io.tandem.media.control;

import static io.tandem.media.control.NgServerTest.kamailio;
import static io.tandem.media.control.NgServerTest.sdp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import io.tandem.media.Main;
import io.tandem.media.PartyMedia;
import io.tandem.media.TestProcesses;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.tandem.ng.NgClient;

/**
 * The main job restarted under an operator's feet, at the scale of a real node: 1,000 calls set up through ng with
 * Call-IDs of one length (as user agents make them), a SIGTERM and a restart, then a {@code kill -9} while media
 * flows on 200 of them. Every call must come back with its own ports and peers, and media must reach both
 * parties of every call again.
 */
class RestartTest
{
    /** Calls set up, and how many of them carry media; more for a measurement (as docs/benchmarks.md says). */
    private static final int CALLS = Integer.getInteger("tandem.restart.calls", 1000);
    private static final int WITH_MEDIA = Integer.getInteger("tandem.restart.media", 200);
    private static final long SEND_EVERY_NS = TimeUnit.MILLISECONDS.toNanos(50);

    @TempDir
    Path dir;

    private final TestProcesses processes = new TestProcesses();
    private final List<DatagramChannel> parties = new ArrayList<>();
    private PartyMedia media;
    private NgClient client;

    @AfterEach
    void tearDown() throws Exception
    {
        CloseHelper.quietClose(media);
        CloseHelper.quietCloseAll(parties);
        CloseHelper.quietClose(client);
        processes.close();
    }

    /** Media ports below the kernel's ephemeral range, so the parties' own sockets never take one. */
    private String[] args()
    {
        return new String[] {"--ports", "12000-" + (12000 + 4 * CALLS + 999), "--max-calls", Integer.toString(Math.max(10000, CALLS)), "--listen-ng", "127.0.0.1:0", "--timeout", "0",
            "--sessions", dir.resolve("sessions.cm3").toString(), "--counters", dir.resolve("counters.dat").toString()};
    }

    private Process start(final String name) throws Exception
    {
        final Path log = dir.resolve(name + ".log");
        final Process process = processes.start(log, TestProcesses.java(Main.class, args()));
        final String ng = await(log, "tandem: ng control on udp 127.0.0.1:");
        await(log, "tandem: running");
        CloseHelper.quietClose(client);
        final int port = Integer.parseInt(ng.replaceAll("tandem: ng control on udp 127\\.0\\.0\\.1:(\\d+).*", "$1"));
        client = new NgClient(new InetSocketAddress("127.0.0.1", port));
        return process;
    }

    private static String await(final Path log, final String prefix) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() - deadline < 0)
        {
            final String text = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            for (final String line : text.substring(0, text.lastIndexOf('\n') + 1).split("\n"))
            {
                if (line.startsWith(prefix))
                {
                    return line;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no line starting with '" + prefix + "' in " + log + ":\n" + Files.readString(log));
    }

    static String callId(final int i)
    {
        return new UUID(0x7a11_0000_0000_0000L + i, 0x1234_5678L * i) + "@sbc-1.example.net";
    }

    /** Offer and answer through ng. @return {port the offerer sends to, port the answerer sends to}. */
    private int[] setUp(final int i, final int offererPort, final int answererPort) throws Exception
    {
        final Map<String, Object> offer = kamailio("offer", callId(i), "from-" + i);
        offer.put("sdp", sdp(offererPort, "call " + i));
        final Map<String, Object> offered = client.send(offer);
        assertEquals("ok", offered.get("result"), String.valueOf(offered));
        final Map<String, Object> answer = kamailio("answer", callId(i), "from-" + i);
        answer.put("to-tag", "to-" + i);
        answer.put("sdp", sdp(answererPort, "call " + i));
        final Map<String, Object> answered = client.send(answer);
        assertEquals("ok", answered.get("result"), String.valueOf(answered));
        return new int[] {Sdp.parse((String)answered.get("sdp")).media().get(0).port(),
            Sdp.parse((String)offered.get("sdp")).media().get(0).port()};
    }

    /** What query says of a call's ports and peers, per tag: local port and endpoint of every stream. */
    @SuppressWarnings("unchecked")
    private String portsAndPeers(final int i) throws Exception
    {
        final Map<String, Object> request = kamailio("query", callId(i), "from-" + i);
        final Map<String, Object> reply = client.send(request);
        assertEquals("ok", reply.get("result"), callId(i) + ": " + reply);
        final StringBuilder out = new StringBuilder();
        for (final Object tag : ((Map<String, Object>)reply.get("tags")).values())
        {
            final Map<String, Object> t = (Map<String, Object>)tag;
            out.append(t.get("tag")).append(':');
            for (final Object media : (List<Object>)t.get("medias"))
            {
                for (final Object stream : (List<Object>)((Map<String, Object>)media).get("streams"))
                {
                    final Map<String, Object> s = (Map<String, Object>)stream;
                    out.append(' ').append(s.get("local port")).append("<->").append(s.get("endpoint"));
                }
            }
            out.append(';');
        }
        return out.toString();
    }

    private Map<String, String> queryAll() throws Exception
    {
        final Map<String, String> all = new LinkedHashMap<>();
        for (int i = 0; i < CALLS; i++)
        {
            all.put(callId(i), portsAndPeers(i));
        }
        return all;
    }

    @Test
    void everyCallSurvivesSigtermAndKillMinusNine() throws Exception
    {
        start("first");
        final InetSocketAddress[] sendTo = new InetSocketAddress[2 * WITH_MEDIA];
        for (int i = 0; i < CALLS; i++)
        {
            if (i < WITH_MEDIA)
            {
                final DatagramChannel offerer = party();
                final DatagramChannel answerer = party();
                final int[] ports = setUp(i, localPort(offerer), localPort(answerer));
                sendTo[2 * i] = new InetSocketAddress("127.0.0.1", ports[0]);
                sendTo[2 * i + 1] = new InetSocketAddress("127.0.0.1", ports[1]);
            }
            else
            {
                setUp(i, 1024 + (2 * i) % 60000, 1025 + (2 * i) % 60000); // parties that never send: only their signalling matters
            }
        }
        final Map<String, String> before = queryAll();

        final Process first = processes.started().get(0);
        first.destroy(); // SIGTERM
        assertTrue(first.waitFor(30, TimeUnit.SECONDS));
        start("second");
        assertTrue(await(dir.resolve("second.log"), "tandem: sessions ").contains("(" + CALLS + " calls restored)"));
        assertEquals(before, queryAll(), "after SIGTERM: every call with its own ports and peers");

        media = new PartyMedia(parties, SEND_EVERY_NS, (p) -> sendTo[p]);
        media.awaitAllHeardSince(System.nanoTime(), (p) -> false, "before the kill");
        final Process second = processes.started().get(1);
        final long killedAt = System.nanoTime();
        second.destroyForcibly();
        assertTrue(second.waitFor(10, TimeUnit.SECONDS));
        final long startedAt = System.nanoTime();
        start("third");
        assertTrue(await(dir.resolve("third.log"), "tandem: sessions ").contains("(" + CALLS + " calls restored)"));
        final long relayingAt = media.awaitAllHeardSince(startedAt, (p) -> false, "after kill -9 and a restart");
        System.out.println(await(dir.resolve("third.log"), "tandem: sessions file opened"));
        System.out.printf("RestartTest: %d calls; kill -9 to media on all %d: %d ms; process start to all relaying: %d ms%n",
            CALLS, WITH_MEDIA, TimeUnit.NANOSECONDS.toMillis(relayingAt - killedAt),
            TimeUnit.NANOSECONDS.toMillis(relayingAt - startedAt));
        assertEquals(0, media.misdelivered(), "a party received media of another call");
        assertEquals(before, queryAll(), "after kill -9: every call with its own ports and peers");
    }

    private DatagramChannel party() throws IOException
    {
        final DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET);
        channel.bind(new InetSocketAddress("127.0.0.1", 0));
        channel.configureBlocking(false);
        parties.add(channel);
        return channel;
    }

    private static int localPort(final DatagramChannel channel) throws IOException
    {
        return ((InetSocketAddress)channel.getLocalAddress()).getPort();
    }
}
