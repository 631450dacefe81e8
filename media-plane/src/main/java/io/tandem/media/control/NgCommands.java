package io.tandem.media.control;

import static io.tandem.media.control.NgRequest.result;
import static io.tandem.media.control.NgRequest.string;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.tandem.ng.NgFlags;
import io.tandem.media.session.Call;
import io.tandem.media.session.MediaException;
import io.tandem.media.session.MediaStream;
import io.tandem.media.session.Monologue;
import io.tandem.media.session.StreamSpec;
import io.tandem.media.stats.MediaCounters;
import io.tandem.media.session.CallRegistry;

/**
 * What each ng command means, in rtpengine's terms, on top of the {@link CallRegistry}: {@code ping}, {@code offer},
 * {@code answer}, {@code delete}, {@code query}, {@code list} and {@code statistics}. The wire (cookies, bencode,
 * sockets) is {@link NgServer}'s business; this class turns a request dictionary into a reply dictionary.
 * Unknown keys and flags are ignored with a warning in the reply, never rejected, so newer clients keep working.
 * Reading the request is {@link NgRequest}'s, the stream specs from the SDP {@link NgStreams}', codec options
 * {@link NgCodecs}', and the reporting commands (query, list, statistics) {@link NgReports}'.
 */
public final class NgCommands
{
    /** Media sections one offer may carry unless configured otherwise: rtpengine-like calls have a few. */
    public static final int DEFAULT_MAX_STREAMS = 16;

    private final CallRegistry registry;
    private final NgReports reports;
    private final MediaAddressPolicy addresses;
    /** loop protect's mark, a=rtpengine:tandem-ADDRESS: the same on both nodes of a pair (they advertise one VIP). */
    private final String loopMark;
    private int maxStreams = DEFAULT_MAX_STREAMS;
    private final MediaCounters counters;
    private final long maxSessions;
    private final long deleteDelayNs;
    private volatile String role = "active";
    private java.util.function.Consumer<Boolean> roleListener;
    private final SdpVersions sdpVersions = new SdpVersions();

    /**
     * @param maxSessions calls beyond which an offer gets {@code load limit}; 0: {@code maxCalls}
     * @param maxCalls calls the sessions table is sized for
     * @param deleteDelayNs how long a deleted call keeps relaying unless the request says otherwise
     */
    public NgCommands(final CallRegistry registry, final long maxSessions, final long maxCalls, final long deleteDelayNs)
    {
        this.registry = registry;
        this.reports = new NgReports(registry);
        this.addresses = new MediaAddressPolicy(registry.interfaces());
        this.loopMark = "rtpengine:tandem-" + registry.interfaces().get(0).advertisedAddress();
        this.counters = registry.counters();
        this.maxSessions = maxSessions > 0 ? maxSessions : maxCalls;
        this.deleteDelayNs = deleteDelayNs;
        registry.onCallEnded((call) -> sdpVersions.forget(call.callId()));
    }

    /** Execute one request. Never throws for bad input: errors become {@code result: error} replies. */
    public Map<String, Object> execute(final Map<String, Object> request)
    {
        try
        {
            return executeBeforeReply(request);
        }
        finally
        {
            afterReply();
        }
    }

    /**
     * {@link #execute} without waking the relay for the changes it queued: the caller sends the reply, then calls
     * {@link #afterReply()}, so the wake-up's cost is not in the reply's latency.
     */
    public Map<String, Object> executeBeforeReply(final Map<String, Object> request)
    {
        counters.ngRequests.increment();
        try
        {
            final String command = string(request, "command");
            final List<String> warnings = new ArrayList<>();
            final NgFlags flags = NgFlags.parse(request);
            final Map<String, Object> reply = switch (command)
            {
                case "ping" -> result("pong");
                case "offer" -> offerOrAnswer(activeOnly(request), flags, false, warnings);
                case "answer" -> offerOrAnswer(activeOnly(request), flags, true, warnings);
                case "delete" -> delete(activeOnly(request), flags, warnings);
                case "query" -> reports.query(request);
                case "list" -> reports.list(request);
                case "statistics" -> reports.statistics();
                case "tandem-role" -> role(request);
                default -> throw new NgException("Unrecognized command '" + command + "'");
            };
            if (!flags.ignored().isEmpty())
            {
                warnings.add("Ignored: " + String.join(", ", flags.ignored()));
            }
            if (!warnings.isEmpty() && "ok".equals(reply.get("result")))
            {
                reply.put("warning", String.join("; ", warnings));
            }
            return reply;
        }
        catch (final NgException ex)
        {
            counters.ngErrors.increment();
            return error(ex.getMessage());
        }
        catch (final RuntimeException ex)
        {
            counters.ngErrors.increment();
            return error("Internal error: " + ex);
        }
    }

    /** Refuse SDP that points media at these control endpoints (the ng listeners, HTTP) too. */
    public void guardControlEndpoints(final List<java.net.InetSocketAddress> endpoints)
    {
        addresses.guardControl(endpoints);
    }

    /** The reply to the last {@link #executeBeforeReply} has gone: the relay may take the changes now. */
    public void afterReply()
    {
        registry.wakeRelay();
    }

    /** Signalling that changes calls belongs on the active node: a standby says so, for a misrouted proxy to notice. */
    private Map<String, Object> activeOnly(final Map<String, Object> request) throws NgException
    {
        if ("standby".equals(role))
        {
            throw new NgException("This node is a standby: send signalling to the active node (the virtual IP)");
        }
        return request;
    }

    static Map<String, Object> error(final String reason)
    {
        final Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("result", "error");
        reply.put("error-reason", reason);
        return reply;
    }

    // ---- offer / answer ----

    /** Refuse a new call for want of capacity: a {@code load limit} reply where the client understands it. */
    private Map<String, Object> loadLimit(final NgFlags flags, final String why) throws NgException
    {
        counters.ngLoadLimit.increment();
        if (flags.supportsLoadLimit())
        {
            final Map<String, Object> reply = result("load limit");
            reply.put("message", why);
            return reply;
        }
        throw new NgException(why);
    }

    /**
     * An offer or answer runs under the registry's lock from start to end: its steps (the load check, the model
     * change, the offerer's transcoding and rtcp-mux, the SDP rewrite) see one state of the call, and a delete from
     * another thread lands before or after, never between them.
     */
    private Map<String, Object> offerOrAnswer(final Map<String, Object> request, final NgFlags flags,
        final boolean answer, final List<String> warnings) throws NgException
    {
        return registry.lockedReplyFirst(() -> offerOrAnswerLocked(request, flags, answer, warnings));
    }

    /** The request's SDP, parsed, with what a call can take checked before any port is taken. */
    private Sdp sdpOf(final Map<String, Object> request) throws NgException
    {
        final Sdp sdp;
        try
        {
            sdp = Sdp.parse(string(request, "sdp"));
        }
        catch (final SdpException ex)
        {
            throw new NgException("Failed to parse SDP: " + ex.getMessage());
        }
        if (sdp.media().isEmpty())
        {
            throw new NgException("Failed to parse SDP: no m= line");
        }
        if (sdp.media().size() > maxStreams)
        {
            throw new NgException("Too many media sections: " + sdp.media().size() + " (at most " + maxStreams + " per call)");
        }
        for (final Sdp.Media m : sdp.media())
        {
            if (m.port() >= 65535 && !m.hasAttribute("rtcp-mux") && !m.hasAttribute("rtcp"))
            {
                throw new NgException("Invalid port " + m.port() + " in an m= line: it leaves no port for RTCP");
            }
        }
        return sdp;
    }

    /** The answer as the offerer will read it: in the offerer's codec where Tandem transcodes, rtcp-mux as it offered. */
    private static void rewriteForOfferer(final Sdp sdp, final G711Pair[] transcoding, final boolean[] offererMux)
    {
        for (int i = 0; i < transcoding.length; i++)
        {
            final G711Pair pair = transcoding[i];
            if (pair != null)
            {
                sdp.replaceFormat(sdp.media().get(i), G711Pair.payloadType(pair.answerer),
                    G711Pair.payloadType(pair.offerer), pair.offerer + "/8000");
            }
        }
        for (int i = 0; i < offererMux.length; i++)
        {
            if (!offererMux[i])
            {
                sdp.removeAttribute(sdp.media().get(i), "rtcp-mux"); // the offerer did not offer it
            }
        }
    }

    /**
     * loop protect: this SDP has been through this node already (a signalling loop), and relaying it again would
     * point Tandem's media at Tandem. Answered as it is, as rtpengine does; no call is touched.
     */
    private static Map<String, Object> loopedBack(final Map<String, Object> request, final List<String> warnings)
        throws NgException
    {
        warnings.add("loop protect: the SDP already carries this node's mark; left untouched");
        final Map<String, Object> reply = result("ok");
        reply.put("sdp", string(request, "sdp"));
        return reply;
    }

    private static void checkTags(final String fromTag, final String toTag) throws NgException
    {
        if (fromTag.isEmpty())
        {
            throw new NgException("Invalid from-tag: empty"); // its party could not be told apart from a pending one
        }
        if (fromTag.equals(toTag))
        {
            throw new NgException("Invalid to-tag: the same as the from-tag");
        }
    }

    private Map<String, Object> offerOrAnswerLocked(final Map<String, Object> request, final NgFlags flags,
        final boolean answer, final List<String> warnings) throws NgException
    {
        final String callId = string(request, "call-id");
        final String fromTag = string(request, "from-tag");
        final String toTag = answer ? string(request, "to-tag") : null;
        checkTags(fromTag, toTag);
        final Sdp sdp = sdpOf(request);
        if (flags.loopProtect() && sdp.hasSessionAttribute(loopMark))
        {
            return loopedBack(request, warnings);
        }
        final boolean newCall = registry.call(callId) == null;
        if (!answer && newCall && registry.callCount() >= maxSessions)
        {
            return loadLimit(flags, "Parallel session limit reached");
        }
        if (!answer && newCall && !registry.hasPortsFor(sdp.media().size(), flags.directionOf(0), flags.directionOf(1)))
        {
            return loadLimit(flags, "Out of media ports"); // another node may have them: say so, as load
        }

        final List<StreamSpec> specs = NgStreams.specs(sdp, flags, addresses);
        final NgCodecs codecs = NgCodecs.of(flags, warnings);
        final G711Pair[] transcoding = answer ? planTranscoding(callId, fromTag, sdp) : new G711Pair[0];
        final boolean[] offererMux = answer ? planOffererMux(flags, callId, fromTag, sdp) : new boolean[0];
        final List<MediaStream> streams;
        try
        {
            if (answer)
            {
                for (int i = 0; i < transcoding.length; i++)
                {
                    if (transcoding[i] != null)
                    {
                        specs.set(i, specs.get(i).withTranscode(transcoding[i].answerer + ">" + transcoding[i].offerer));
                    }
                }
                streams = registry.answer(callId, fromTag, toTag, specs);
                finishOfferer(callId, fromTag, transcoding, offererMux);
            }
            else
            {
                final List<String> direction = flags.direction();
                if (!direction.isEmpty() && direction.size() != 2)
                {
                    throw new NgException("direction must name two interfaces");
                }
                streams = registry.offer(callId, fromTag, specs,
                    direction.isEmpty() ? null : direction.get(0), direction.isEmpty() ? null : direction.get(1));
            }
        }
        catch (final MediaException ex)
        {
            throw new NgException(ex.getMessage());
        }
        if (streams.size() < sdp.media().size())
        {
            throw new NgException("Answer has more media sections than the offer");
        }
        rewrite(flags, sdp, streams, warnings);
        if (answer)
        {
            rewriteForOfferer(sdp, transcoding, offererMux);
        }
        else
        {
            codecs.apply(sdp, warnings);
        }
        if (flags.replaces(NgFlags.Replace.SDP_VERSION))
        {
            sdpVersions.version(callId, fromTag, sdp);
        }
        if (flags.loopProtect())
        {
            sdp.addSessionAttribute(loopMark);
        }
        final Map<String, Object> reply = result("ok");
        reply.put("sdp", sdp.toString());
        return reply;
    }

    /** The two G.711 laws on either side of a transcoded stream: what the offerer and the answerer send. */
    record G711Pair(String offerer, String answerer)
    {
        static String payloadType(final String law)
        {
            return law.equals("PCMU") ? "0" : "8";
        }

        static String other(final String law)
        {
            return law.equals("PCMU") ? "PCMA" : "PCMU";
        }
    }

    /**
     * For each media section of an answer: transcoding is needed when the answerer chose one G.711 law that the
     * offerer did not offer, but the offerer offered the other one (as after a {@code transcode-PCMA} offer).
     */
    private G711Pair[] planTranscoding(final String callId, final String fromTag, final Sdp answer)
    {
        final G711Pair[] plan = new G711Pair[answer.media().size()];
        synchronized (registry)
        {
            final Call call = registry.call(callId);
            final Monologue offerer = call == null ? null : call.monologues().get(fromTag);
            if (offerer == null)
            {
                return plan;
            }
            for (int i = 0; i < plan.length && i < offerer.streams().size(); i++)
            {
                final Sdp.Media m = answer.media().get(i);
                final StreamSpec offered = offerer.streams().get(i).spec();
                if (m.formats().isEmpty() || offered == null || offered.formats() == null)
                {
                    continue;
                }
                final String chosen = answer.codecName(m, m.formats().get(0));
                if (!"PCMU".equals(chosen) && !"PCMA".equals(chosen))
                {
                    continue;
                }
                final List<String> offeredFormats = List.of(offered.formats().split(" "));
                final String other = G711Pair.other(chosen);
                if (!offeredFormats.contains(G711Pair.payloadType(chosen)) &&
                    offeredFormats.contains(G711Pair.payloadType(other)))
                {
                    plan[i] = new G711Pair(other, chosen);
                }
            }
        }
        return plan;
    }

    /** rtcp-mux demux or reject: Tandem removes a=rtcp-mux and relays RTCP on separate ports. */
    private static boolean demuxRequested(final NgFlags flags)
    {
        return flags.rtcpMux(NgFlags.RtcpMux.DEMUX) || flags.rtcpMux(NgFlags.RtcpMux.REJECT);
    }

    /**
     * Whether the offerer ends up multiplexing RTCP on each stream: only if it offered rtcp-mux and the answer it
     * gets keeps it (the answerer accepted, and this request does not demux or reject it).
     */
    private boolean[] planOffererMux(final NgFlags flags, final String callId, final String fromTag, final Sdp answer)
    {
        final boolean[] mux = new boolean[answer.media().size()];
        final boolean demux = demuxRequested(flags);
        synchronized (registry)
        {
            final Call call = registry.call(callId);
            final Monologue offerer = call == null ? null : call.monologues().get(fromTag);
            for (int i = 0; i < mux.length; i++)
            {
                final StreamSpec offered = offerer == null || i >= offerer.streams().size() ? null :
                    offerer.streams().get(i).spec();
                mux[i] = offered != null && offered.rtcpMux() && !demux && answer.media().get(i).hasAttribute("rtcp-mux");
            }
        }
        return mux;
    }

    /**
     * Re-signal the offerer's streams after the answer: what it sends is transcoded to what the answerer chose, and
     * a stream whose offered rtcp-mux was not accepted goes back to a separate RTCP port.
     */
    private void finishOfferer(final String callId, final String fromTag, final G711Pair[] plan, final boolean[] mux)
        throws MediaException
    {
        final List<StreamSpec> specs = new ArrayList<>();
        boolean any = false;
        synchronized (registry)
        {
            final Monologue offerer = registry.call(callId).monologues().get(fromTag);
            for (int i = 0; i < offerer.streams().size(); i++)
            {
                StreamSpec spec = offerer.streams().get(i).spec();
                if (spec == null)
                {
                    return;
                }
                if (i < plan.length && plan[i] != null)
                {
                    spec = spec.withTranscode(plan[i].offerer + ">" + plan[i].answerer);
                    any = true;
                }
                if (i < mux.length && spec.rtcpMux() && !mux[i])
                {
                    spec = spec.withRtcp(spec.rtcp(), false);
                    any = true;
                }
                specs.add(spec);
            }
        }
        if (any)
        {
            registry.offer(callId, fromTag, specs);
        }
    }

    private void rewrite(final NgFlags flags, final Sdp sdp, final List<MediaStream> streams, final List<String> warnings)
    {
        final String sessionAddress = streams.get(0).advertisedAddress();
        sdp.rewriteSessionConnection(sessionAddress);
        for (int i = 0; i < sdp.media().size(); i++)
        {
            final MediaStream stream = streams.get(i);
            sdp.rewriteMedia(sdp.media().get(i), stream.advertisedAddress(), stream.localRtpPort());
        }
        final String ice = flags.ice();
        if (ice != null && !ice.equals("remove") && !ice.equals("force") && !ice.equals("default"))
        {
            warnings.add("ICE=" + ice + " is not supported: ICE attributes removed");
        }
        sdp.removeIce();
        final boolean demux = demuxRequested(flags);
        final boolean offerMux = flags.rtcpMux(NgFlags.RtcpMux.OFFER);
        for (final Sdp.Media m : sdp.media())
        {
            if (demux)
            {
                sdp.removeAttribute(m, "rtcp-mux");
            }
            else if (offerMux && !m.hasAttribute("rtcp-mux") && m.port() != 0)
            {
                sdp.addAttribute(m, "rtcp-mux"); // Tandem demultiplexes for the party that does not
            }
        }
        if (flags.replaces(NgFlags.Replace.ORIGIN))
        {
            sdp.replaceOrigin(sessionAddress);
        }
        if (flags.replaces(NgFlags.Replace.SESSION_NAME))
        {
            sdp.replaceSessionName("Tandem");
        }
        // session-connection: already rewritten above; SDP-version: applied last, once the body is final (SdpVersions)
    }

    // ---- delete / query / list / statistics ----

    private Map<String, Object> delete(final Map<String, Object> request, final NgFlags flags, final List<String> warnings)
        throws NgException
    {
        final String callId = string(request, "call-id");
        final Call call = registry.call(callId);
        if (call == null)
        {
            if (flags.fatal())
            {
                throw new NgException("Unknown call-id");
            }
            warnings.add("Unknown call-id");
            return result("ok");
        }
        final Map<String, Object> reply = reports.queryReply(call);
        long delaySeconds = deleteDelayNs / 1_000_000_000L;
        final Object given = request.containsKey("delete delay") ? request.get("delete delay") : request.get("delete-delay");
        if (given != null)
        {
            if (!(given instanceof Long value) || value < 0)
            {
                throw new NgException("delete delay must be a non-negative integer");
            }
            delaySeconds = value;
        }
        registry.delete(callId, delaySeconds * 1_000_000_000L);
        return reply;
    }

    /**
     * Tandem's own command (not rtpengine's): read or set this node's HA role, {@code active} or {@code standby}.
     * keepalived's notify script sets it through tandemctl when the VIP moves; a change goes to the role listener
     * (the media plane: the journal's promote or demote) and is reported in the counters.
     */
    private Map<String, Object> role(final Map<String, Object> request) throws NgException
    {
        final Object wanted = request.get("role");
        if (wanted != null)
        {
            if (!"active".equals(wanted) && !"standby".equals(wanted))
            {
                throw new NgException("role must be active or standby");
            }
            final boolean changed = !wanted.equals(role);
            roleChanged((String)wanted);
            if (changed && roleListener != null)
            {
                roleListener.accept("active".equals(wanted));
            }
        }
        final Map<String, Object> reply = result("ok");
        reply.put("role", role);
        reply.put("calls", (long)registry.callCount());
        return reply;
    }

    /** Called with true when the tandem-role command makes this node active, false when standby. */
    public NgCommands onRoleCommand(final java.util.function.Consumer<Boolean> listener)
    {
        roleListener = listener;
        return this;
    }

    /** The node's role changed elsewhere (fenced by its journal peer, say): report it, refuse signalling if standby. */
    public void roleChanged(final String newRole)
    {
        if (!newRole.equals(role))
        {
            counters.roleChanges.increment();
        }
        role = newRole;
        counters.roleActive.setRelease("active".equals(newRole) ? 1 : 0);
    }

    /** This node's HA role, {@code active} or {@code standby}. */
    public String role()
    {
        return role;
    }

    /** Media sections (m= lines) one offer or answer may carry; more is refused before any port is taken. */
    public NgCommands maxStreams(final int value)
    {
        maxStreams = value;
        return this;
    }

    /** Set the role this node starts in. */
    public NgCommands role(final String initial)
    {
        if (!"active".equals(initial) && !"standby".equals(initial))
        {
            throw new IllegalArgumentException("role must be active or standby: " + initial);
        }
        role = initial;
        counters.roleActive.setRelease("active".equals(initial) ? 1 : 0);
        return this;
    }
}
