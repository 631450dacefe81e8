package io.tandem.sip;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import io.tandem.ng.HttpListener;

/**
 * The shim's HTTP listener ({@code --listen-metrics}): {@code GET /metrics} gives its counters, and its journal's when
 * it has an HA peer, in Prometheus' text format; {@code GET /ping} answers {@code pong}. Nothing else: no request
 * changes anything, so it may face a monitoring network. It runs on the ng module's HTTP reader, with its limits:
 * {@value #MAX_CONNECTIONS} connections, a request begun must be complete within 10 s, an idle keep-alive connection
 * is closed after 30 s; what it refuses is counted in its own metrics.
 */
final class ShimMetrics extends HttpListener
{
    static final int MAX_CONNECTIONS = 16;
    private static final int MAX_BODY = 1024;

    private final SipShim shim;
    private final LongSupplier controlErrors;
    private final Counted counted;

    /** @param controlErrors the control socket's errors (0 without one) */
    ShimMetrics(final SipShim shim, final InetSocketAddress listen, final LongSupplier controlErrors)
    {
        super(listen, "tandem-sip-metrics", new Limits(MAX_CONNECTIONS, 10_000, 30_000), (source) -> true,
            new Counted(), MAX_BODY);
        this.counted = (Counted)events;
        this.shim = shim;
        this.controlErrors = controlErrors;
        start();
    }

    /** What the listener refuses, counted for its own metrics. */
    private static final class Counted implements Events
    {
        private final AtomicLong refused = new AtomicLong();
        private final AtomicLong timedOut = new AtomicLong();
        private final AtomicLong malformed = new AtomicLong();

        @Override
        public void sourceRefused()
        {
            // every source may ask for /metrics
        }

        @Override
        public void connectionRefused()
        {
            refused.incrementAndGet();
        }

        @Override
        public void timedOut()
        {
            timedOut.incrementAndGet();
        }

        @Override
        public void malformed()
        {
            malformed.incrementAndGet();
        }
    }

    @Override
    protected Response respond(final Request request)
    {
        if (request.tooLong())
        {
            counted.malformed();
            return Response.text(413, "Content Too Large", "no request here takes a body");
        }
        return switch (request.path())
        {
            case "/metrics" -> Response.get(request, "text/plain; version=0.0.4; charset=utf-8", text());
            case "/ping" -> Response.get(request, "text/plain", "pong");
            default -> Response.notFound();
        };
    }

    /** Every counter of the shim, in Prometheus' text exposition format. */
    String text()
    {
        final StringBuilder out = new StringBuilder(4096);
        final CallInfoStore calls = shim.calls();
        family(out, "tandem_sip_calls", true, "Calls whose call info this node holds");
        sample(out, "tandem_sip_calls", calls.size());
        family(out, "tandem_sip_role_active", true, "1 when this node's call info is the pair's writer, 0 when standby");
        sample(out, "tandem_sip_role_active", calls.active() ? 1 : 0);
        family(out, "tandem_sip_relayed_total", false, "Requests relayed, by method (retransmissions not counted)");
        for (final Map.Entry<String, Long> method : shim.relayedByMethod().entrySet())
        {
            sample(out, "tandem_sip_relayed_total{method=\"" + method.getKey() + "\"}", method.getValue());
        }
        counter(out, "tandem_sip_relayed_without_transaction_total", shim.relayedWithoutTransaction(),
            "Requests, ACKs and CANCELs relayed with no transaction here (a failover's leftovers)");
        counter(out, "tandem_sip_alternates_total", shim.alternates(),
            "Requests sent on to the next destination of their rule (503, timeout, silence)");
        counter(out, "tandem_sip_malformed_total", shim.malformed(), "Requests refused as malformed (400, 416)");
        counter(out, "tandem_sip_calls_expired_total", calls.expired(), "Call info expired for calls that never ended");
        counter(out, "tandem_sip_call_info_refused_total", calls.refused(),
            "Replicated call info records refused as unreadable");
        counter(out, "tandem_sip_call_info_unrecorded_total", calls.unrecorded(),
            "Calls relayed without call info (a field too long for its record)");
        counter(out, "tandem_sip_control_errors_total", controlErrors.getAsLong(),
            "Control socket requests answered with an error");
        counter(out, "tandem_sip_metrics_connections_refused_total", counted.refused.get(),
            "Metrics connections closed at once: " + MAX_CONNECTIONS + " were open");
        counter(out, "tandem_sip_metrics_timed_out_total", counted.timedOut.get(),
            "Metrics requests begun and not completed in time");
        counter(out, "tandem_sip_metrics_malformed_total", counted.malformed.get(), "Metrics requests refused as malformed");
        for (final CallInfoStore.JournalMetric metric : calls.journalMetrics())
        {
            family(out, metric.name(), metric.gauge(), metric.help());
            sample(out, metric.name(), metric.counter().get());
        }
        return out.toString();
    }

    private static void counter(final StringBuilder out, final String name, final long value, final String help)
    {
        family(out, name, false, help);
        sample(out, name, value);
    }

    private static void family(final StringBuilder out, final String name, final boolean gauge, final String help)
    {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(gauge ? " gauge" : " counter").append('\n');
    }

    private static void sample(final StringBuilder out, final String name, final long value)
    {
        out.append(name).append(' ').append(value).append('\n');
    }
}
