package io.tandem.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tuning/: the sysctl file names real kernel settings, and host-check reports an untuned host and passes a tuned one. */
class TuningFilesTest
{
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path root;

    @Test
    void everySysctlSettingExistsInThisKernel() throws Exception
    {
        int settings = 0;
        for (final String line : Files.readAllLines(REPO.resolve("tuning/sysctl.d/60-tandem.conf")))
        {
            final String trimmed = line.trim();
            if (trimmed.isEmpty() || trimmed.startsWith("#"))
            {
                continue;
            }
            final String[] keyValue = trimmed.split("=", 2);
            assertEquals(2, keyValue.length, "not key = value: " + line);
            final Path proc = Path.of("/proc/sys/" + keyValue[0].trim().replace('.', '/'));
            assertTrue(Files.exists(proc), "no such kernel setting: " + keyValue[0].trim());
            settings++;
        }
        assertTrue(settings >= 8, "settings: " + settings);
    }

    @Test
    void theSystemdUnitsCommandLineIsOneTandemAccepts() throws Exception
    {
        final String unit = Files.readString(Path.of("../tuning/systemd/tandem.service"));
        final String execStart = unit.replace("\\\n", " ").lines()
            .filter((line) -> line.startsWith("ExecStart=")).findFirst().orElseThrow();
        final String[] words = execStart.substring("ExecStart=".length()).trim().split("\\s+");
        assertTrue(words[0].endsWith("/bin/tandem"), execStart);
        final Main.Options options = Main.parse(java.util.Arrays.copyOfRange(words, 1, words.length));
        assertEquals(2, options.context().interfaceSpecs().size());
        assertTrue(options.ng().listenHttpAddress() != null, "the unit serves /metrics");
    }

    @Test
    void theExampleConfigurationFileIsOneTandemAccepts()
    {
        final Main.Options options = Main.parse(new String[] {"--config", "../tuning/tandem.conf"});
        assertEquals(2, options.context().interfaceSpecs().size());
        assertEquals(1, options.context().forwarderCpu());
        assertTrue(options.ng().listenHttpAddress() != null);
    }

    @Test
    void theLaunchersJvmFlagsAreThePomsJvmFlags() throws Exception
    {
        final String pom = Files.readString(REPO.resolve("pom.xml"));
        final String property = pom.substring(pom.indexOf("<tandem.jvm.flags>") + "<tandem.jvm.flags>".length(),
            pom.indexOf("</tandem.jvm.flags>"));
        final java.util.List<String> launcher = Files.readAllLines(REPO.resolve(".mvn/jvm-flags")).stream()
            .map(String::trim).filter((line) -> !line.isEmpty() && !line.startsWith("#")).toList();
        assertEquals(java.util.List.of(property.trim().split("\\s+")), launcher,
            "pom.xml's tandem.jvm.flags (Surefire) and .mvn/jvm-flags (bin/ launchers) must list the same flags");
    }

    private void write(final String path, final String value) throws Exception
    {
        final Path file = root.resolve(path.substring(1));
        Files.createDirectories(file.getParent());
        Files.writeString(file, value + "\n");
    }

    private String hostCheck(final String... args) throws Exception
    {
        final String[] command = new String[args.length + 1];
        command[0] = REPO.resolve("tuning/host-check").toString();
        System.arraycopy(args, 0, command, 1, args.length);
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("HOST_CHECK_ROOT", root.toString());
        final Process process = builder.start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        return process.exitValue() + "\n" + out;
    }

    @Test
    void anUntunedHostGetsAFixForEachProblem() throws Exception
    {
        write("/proc/sys/net/ipv4/ip_nonlocal_bind", "0");
        write("/proc/sys/net/core/rmem_max", "212992");
        write("/proc/sys/net/core/wmem_max", "212992");
        write("/proc/sys/net/ipv4/ip_local_port_range", "32768\t60999");
        write("/proc/sys/net/ipv4/ip_local_reserved_ports", "");
        write("/proc/4242/comm", "irqbalance");
        write("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "powersave");
        write("/sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never");
        Files.createDirectories(root.resolve("sys/class/net/eth0/queues/rx-0"));
        final String out = hostCheck("--strict");
        assertTrue(out.startsWith("1\n"), "--strict fails an untuned host:\n" + out);
        for (final String expected : new String[] {"ip_nonlocal_bind = 0", "rmem_max = 212992", "wmem_max = 212992",
            "overlap the media range", "no isolated CPUs", "irqbalance is running", "CPU governor: powersave",
            "transparent huge pages: always", "NIC eth0 has 1 receive queue"})
        {
            assertTrue(out.contains("FIX   ") && out.contains(expected), "missing '" + expected + "':\n" + out);
        }
        assertTrue(out.contains("9 thing(s) to fix"), out);
    }

    @Test
    void aTunedHostPasses() throws Exception
    {
        write("/proc/sys/net/ipv4/ip_nonlocal_bind", "1");
        write("/proc/sys/net/core/rmem_max", "16777216");
        write("/proc/sys/net/core/wmem_max", "16777216");
        write("/proc/sys/net/ipv4/ip_local_port_range", "40001\t60999");
        write("/sys/devices/system/cpu/isolated", "1");
        write("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "performance");
        write("/sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never");
        Files.createDirectories(root.resolve("sys/class/net/eth0/queues/rx-0"));
        Files.createDirectories(root.resolve("sys/class/net/eth0/queues/rx-1"));
        Files.createDirectories(root.resolve("proc/1"));
        final String out = hostCheck("--strict", "--agent-cpu", "1");
        assertTrue(out.startsWith("0\n") && out.contains("0 thing(s) to fix") && !out.contains("FIX"), out);
    }
}
