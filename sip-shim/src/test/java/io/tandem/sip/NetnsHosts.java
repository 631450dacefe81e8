package io.tandem.sip;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Two hosts of an HA pair and the phones they serve, in network namespaces a test creates and removes: a caller's
 * and a callee's host, node A and node B, each joined by a veth pair to one bridge (its own namespace), node A
 * holding the virtual IP; both nodes may bind the VIP before they hold it (ip_nonlocal_bind, set per namespace).
 * {@link #moveVip} does what keepalived does when A's host dies.
 */
final class NetnsHosts implements AutoCloseable
{
    static final String VIP = "10.216.0.100";
    /**
     * A shim process's warm-up here: enough to run it (on the namespace's loopback) before the node reports its
     * role, short of the 10,000 a production start relays, since two nodes warm up at once on the test host's CPUs.
     */
    static final String WARM_UP_CALLS = "500";
    static final String A = "10.216.0.1";
    static final String B = "10.216.0.2";
    static final String CALLER = "10.216.0.10";
    static final String CALLEE = "10.216.0.20";

    private final String suffix = Long.toString(ProcessHandle.current().pid() % 100000);
    final String caller = "tds-c-" + suffix;
    final String callee = "tds-e-" + suffix;
    final String nodeA = "tds-a-" + suffix;
    final String nodeB = "tds-b-" + suffix;
    private final String bridge = "tds-br-" + suffix;

    /** Build the topology (root, iproute2 and arping needed: the caller checks first). */
    NetnsHosts create() throws Exception
    {
        run("ip", "netns", "add", bridge);
        run("ip", "-n", bridge, "link", "add", "br0", "type", "bridge");
        run("ip", "-n", bridge, "link", "set", "br0", "up");
        host(caller, CALLER, "tds-pc" + suffix);
        host(callee, CALLEE, "tds-pe" + suffix);
        host(nodeA, A, "tds-pa" + suffix);
        host(nodeB, B, "tds-pb" + suffix);
        for (final String ns : List.of(nodeA, nodeB))
        {
            // the nodes bind the VIP before their host holds it (tuning/sysctl.d sets it on a real host)
            run("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1");
        }
        run("ip", "-n", nodeA, "addr", "add", VIP + "/24", "dev", "eth0");
        return this;
    }

    /** Root, network namespaces and arping, or the test skips (off CI) or fails (in CI) with the reason. */
    static void need() throws Exception
    {
        SipProcesses.needRoot("network namespaces");
        SipProcesses.need("/usr/bin/sipp", "sip-tester");
        SipProcesses.need(Files.exists(Path.of("/usr/sbin/arping")) ? "/usr/sbin/arping" : "/usr/bin/arping",
            "iputils-arping");
    }

    private static void run(final String... command) throws Exception
    {
        SipProcesses.run(true, command);
    }

    /** A namespace joined to the bridge by a veth pair, its end called eth0, with {@code address}/24. */
    private void host(final String ns, final String address, final String port) throws Exception
    {
        run("ip", "netns", "add", ns);
        run("ip", "link", "add", port, "type", "veth", "peer", "name", port + "x");
        run("ip", "link", "set", port, "netns", bridge);
        run("ip", "link", "set", port + "x", "netns", ns);
        run("ip", "-n", ns, "link", "set", port + "x", "name", "eth0");
        run("ip", "-n", ns, "addr", "add", address + "/24", "dev", "eth0");
        run("ip", "-n", ns, "link", "set", "lo", "up");
        run("ip", "-n", ns, "link", "set", "eth0", "up");
        run("ip", "-n", bridge, "link", "set", port, "master", "br0");
        run("ip", "-n", bridge, "link", "set", port, "up");
    }

    /** {@code bin/tandemctl --ng ENDPOINT COMMAND} inside {@code ns}, as keepalived's scripts run it. @return its output */
    static String tandemctl(final String ns, final String endpoint, final String command) throws Exception
    {
        final Path repo = Path.of("..").toAbsolutePath().normalize();
        return SipProcesses.run(false, "ip", "netns", "exec", ns, repo.resolve("bin/tandemctl").toString(), "--ng",
            endpoint, "--timeout", "2", command).trim();
    }

    /** {@code command} run inside {@code ns}. */
    static List<String> in(final String ns, final List<String> command)
    {
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(command);
        return full;
    }

    /**
     * A's host is gone (the caller has killed its processes): its link goes down, B takes the VIP and announces it
     * with a gratuitous ARP, as keepalived's MASTER transition does. Its notify script is the caller's to run.
     */
    void moveVip() throws Exception
    {
        run("ip", "-n", nodeA, "link", "set", "eth0", "down");
        run("ip", "-n", nodeB, "addr", "add", VIP + "/24", "dev", "eth0");
        run("ip", "netns", "exec", nodeB, "timeout", "10", "arping", "-U", "-c", "1", "-I", "eth0", VIP);
    }

    /** A test's own directory under target/ (logs, sessions, state), kept for a look after a failure. */
    static Path workDirectory(final String prefix) throws IOException
    {
        final Path target = Path.of("target").toAbsolutePath();
        Files.createDirectories(target);
        return Files.createTempDirectory(target, prefix);
    }

    /**
     * keepalived's shipped notify script on B going MASTER, with {@code env} as /etc/default/tandem would set it.
     * @return "exit output"
     */
    String notifyMaster(final Path work, final Map<String, String> env) throws Exception
    {
        final Path repo = Path.of("..").toAbsolutePath().normalize();
        final Path script = work.resolve("tandem-notify");
        Files.writeString(script, Files.readString(repo.resolve("tuning/keepalived/tandem-notify"))
            .replace("/opt/tandem", repo.toString()));
        final ProcessBuilder builder = new ProcessBuilder(in(nodeB, List.of("timeout", "20", "sh", script.toString(),
            "INSTANCE", "TANDEM", "MASTER", "150"))).redirectErrorStream(true);
        builder.environment().putAll(env);
        final Process process = builder.start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!process.waitFor(25, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new AssertionError("the notify script did not finish: " + out);
        }
        return process.exitValue() + " " + out;
    }

    /** Delete the namespaces, and the embedded Aeron drivers' files a killed node leaves (its restart would reuse them). */
    @Override
    public void close() throws Exception
    {
        for (final String ns : List.of(caller, callee, nodeA, nodeB, bridge))
        {
            SipProcesses.run(false, "ip", "netns", "del", ns);
        }
        for (final String node : List.of(A, B))
        {
            for (final String port : List.of("7400", "7500"))
            {
                final Path driver = Path.of("/dev/shm", "tandem-journal-" + node.replace('.', '-') + "-" + port);
                if (Files.isDirectory(driver))
                {
                    SipProcesses.run(false, "rm", "-rf", driver.toString());
                }
            }
        }
    }
}
