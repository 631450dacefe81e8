package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;


/**
 * The shim's control socket as keepalived's scripts use it, through the real {@code bin/tandemctl}: health, status,
 * promote and demote of a pair of shims whose call info is journaled; and what a stranger's datagram gets: an ng
 * error, counted, or nothing when it has no cookie to answer by. Inputs under ShimControlTestInputs/ run as
 * regression tests in every build; `JAZZER_FUZZ=1` fuzzes.
 */
class ShimControlTest
{
    private static final String TANDEMCTL = Path.of("../bin/tandemctl").toAbsolutePath().normalize().toString();

    @TempDir
    Path dir;

    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(closing.reversed());
    }

    private ShimControl node(final String name, final int sipPort, final int controlPort, final String journal,
        final String peer, final boolean active) throws Exception
    {
        final SipShim shim = JournaledShims.shim(dir, closing, name, sipPort, journal, peer, active);
        final ShimControl control = new ShimControl(shim, new InetSocketAddress("127.0.0.1", controlPort));
        closing.add(control);
        return control;
    }

    private static String tandemctl(final int port, final String command) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder("timeout", "10", TANDEMCTL, "--ng", "127.0.0.1:" + port,
            "--timeout", "2", command).redirectErrorStream(true).start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(process.waitFor(15, TimeUnit.SECONDS));
        return (process.exitValue() + " " + out).trim();
    }

    @Test
    void keepalivedsScriptsReadAndMoveThePairsRoles() throws Exception
    {
        node("a", 25360, 25324, "127.0.0.1:40750", "127.0.0.1:40760", true);
        node("b", 25361, 25325, "127.0.0.1:40760", "127.0.0.1:40750", false);
        assertEquals("0", tandemctl(25324, "health"), "the track script's check");
        assertEquals("0 role active, calls 0", tandemctl(25324, "status"));
        assertEquals("0 role standby, calls 0", tandemctl(25325, "status"));
        // the VIP moves: keepalived's notify demotes A (BACKUP) and promotes B (MASTER)
        assertEquals("0 tandemctl: 127.0.0.1:25325 is now active", tandemctl(25325, "promote"));
        assertEquals("0 tandemctl: 127.0.0.1:25324 is now standby", tandemctl(25324, "demote"));
        assertEquals("0 role standby, calls 0", tandemctl(25324, "status"));
        assertEquals("1", tandemctl(25326, "health").substring(0, 1), "no shim there: unhealthy");
    }

    /** A shipped keepalived script with this checkout in place of /opt/tandem, run with the environment given. */
    private String keepalivedScript(final String script, final Map<String, String> env, final String... args)
        throws IOException, InterruptedException
    {
        final Path repo = Path.of("..").toAbsolutePath().normalize();
        final Path copy = dir.resolve(script);
        Files.writeString(copy, Files.readString(repo.resolve("tuning/keepalived/" + script))
            .replace("/opt/tandem", repo.toString()));
        final List<String> command = new ArrayList<>(List.of("timeout", "20", "sh", copy.toString()));
        command.addAll(List.of(args));
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        final Process process = builder.start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(process.waitFor(25, TimeUnit.SECONDS));
        return process.exitValue() + " " + out;
    }

    @Test
    void keepalivedsNotifyAndCheckScriptsDriveTheShimBesideTheMediaPlane() throws Exception
    {
        node("a", 25360, 25324, "127.0.0.1:40750", "127.0.0.1:40760", true);
        node("b", 25361, 25325, "127.0.0.1:40760", "127.0.0.1:40750", false);
        // node A's host goes BACKUP: its media plane (here the other control socket stands in for it) and its shim
        final String demoted = keepalivedScript("tandem-notify", Map.of("TANDEM_NG", "127.0.0.1:25325",
            "TANDEM_SIP_CONTROL", "127.0.0.1:25324"), "INSTANCE", "TANDEM", "BACKUP", "150");
        assertTrue(demoted.startsWith("0 "), demoted);
        assertTrue(demoted.contains("tandemctl demote 127.0.0.1:25324: tandemctl: 127.0.0.1:25324 is now standby"),
            demoted);
        assertEquals("0 role standby, calls 0", tandemctl(25324, "status"));
        final String promoted = keepalivedScript("tandem-notify", Map.of("TANDEM_NG", "127.0.0.1:25324",
            "TANDEM_SIP_CONTROL", "127.0.0.1:25325"), "INSTANCE", "TANDEM", "MASTER", "150");
        assertTrue(promoted.contains("127.0.0.1:25325 is now active"), promoted);
        assertEquals("0 role active, calls 0", tandemctl(25325, "status"));
        assertTrue(keepalivedScript("tandem-check", Map.of("TANDEM_NG", "127.0.0.1:25324", "TANDEM_SIP_CONTROL",
            "127.0.0.1:25325")).startsWith("0"), "both answer: healthy");
        assertTrue(keepalivedScript("tandem-check", Map.of("TANDEM_NG", "127.0.0.1:25324", "TANDEM_SIP_CONTROL",
            "127.0.0.1:25326")).startsWith("1"), "the shim does not answer: unhealthy");
    }

    /** A SIP-only node (media on other hosts): TANDEM_NG=none, and the scripts drive the shim alone. */
    @Test
    void onASipOnlyNodeTheScriptsDriveTheShimAlone() throws Exception
    {
        node("a", 25360, 25324, "127.0.0.1:40750", "127.0.0.1:40760", true);
        final Map<String, String> sipOnly = Map.of("TANDEM_NG", "none", "TANDEM_SIP_CONTROL", "127.0.0.1:25324");
        assertTrue(keepalivedScript("tandem-check", sipOnly).startsWith("0"), "the shim answers: healthy");
        assertTrue(keepalivedScript("tandem-check", Map.of("TANDEM_NG", "none", "TANDEM_SIP_CONTROL",
            "127.0.0.1:25326")).startsWith("1"), "the shim does not answer: unhealthy");
        final String nothing = keepalivedScript("tandem-check", Map.of("TANDEM_NG", "none"));
        assertTrue(nothing.startsWith("1") && nothing.contains("nothing here to check"), nothing);
        final String demoted = keepalivedScript("tandem-notify", sipOnly, "INSTANCE", "TANDEM", "BACKUP", "150");
        assertTrue(demoted.startsWith("0 "), demoted);
        assertEquals(1, demoted.lines().count(), "one process told, no media plane: " + demoted);
        assertEquals("0 role standby, calls 0", tandemctl(25324, "status"));
        assertTrue(keepalivedScript("tandem-notify", sipOnly, "INSTANCE", "TANDEM", "MASTER", "150")
            .contains("127.0.0.1:25324 is now active"));
    }

    @Test
    void whatIsNotARequestGetsAnErrorAndIsCounted() throws Exception
    {
        final ShimControl control = node("a", 25360, 25324, "127.0.0.1:40750", "127.0.0.1:40760", true);
        assertNull(control.answer(bytes("no-cookie-at-all")), "nothing to answer by");
        assertNull(control.answer(bytes(" d7:command4:pinge")), "an empty cookie");
        assertReply(control, "c1 garbage", "c1 d6:result5:error12:error-reason");
        assertReply(control, "c2 l4:pinge", "is not a dictionary");
        assertReply(control, "c3 d4:call2:xxe", "No command given");
        assertReply(control, "c4 d7:command5:drinke", "Unrecognized command 'drink'");
        assertReply(control, "c5 d7:command11:tandem-role4:role6:mastere", "role is active or standby");
        assertReply(control, "c6 d7:command11:tandem-role4:rolei1ee", "role is active or standby");
        assertEquals(8, control.errors());
        assertReply(control, "c7 d7:command4:pinge", "c7 d6:result4:ponge");
        assertReply(control, "c8 d7:command10:statisticse", "14:control-errorsi8e");
        assertEquals(8, control.errors(), "answers are not errors");
    }

    private static void assertReply(final ShimControl control, final String request, final String part)
    {
        final String reply = new String(control.answer(bytes(request)), StandardCharsets.ISO_8859_1);
        assertTrue(reply.contains(part), reply);
    }

    private static byte[] bytes(final String text)
    {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static SipShim fuzzedShim;
    private static ShimControl fuzzed;

    @AfterAll
    static void closeFuzzed()
    {
        CloseHelper.quietCloseAll(fuzzed, fuzzedShim); // its port was held for the rest of the test JVM
        fuzzed = null;
        fuzzedShim = null;
    }

    @FuzzTest(maxDuration = "30s")
    void anyDatagramIsAnsweredByItsCookieOrDropped(final FuzzedDataProvider data) throws Exception
    {
        if (fuzzed == null)
        {
            fuzzedShim = new SipShim(new SipContext().listen("127.0.0.1:25362").route("127.0.0.1:25390")
                .conclude());
            fuzzed = new ShimControl(fuzzedShim, new InetSocketAddress("127.0.0.1", 0));
        }
        final byte[] datagram = data.consumeRemainingAsBytes();
        final byte[] reply = fuzzed.answer(datagram);
        if (reply != null)
        {
            final int space = io.tandem.ng.NgDatagram.cookieEnd(datagram, datagram.length);
            for (int i = 0; i <= space; i++)
            {
                assertEquals(datagram[i], reply[i], "the reply carries the request's cookie");
            }
        }
    }
}
