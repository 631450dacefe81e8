package io.tandem.sip;

import java.text.ParseException;

import javax.sip.message.Request;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import gov.nist.javax.sip.message.SIPMessage;
import gov.nist.javax.sip.message.SIPRequest;
import gov.nist.javax.sip.parser.StringMsgParser;

/**
 * What reaches the shim's own code: any datagram jain-sip parses into a request that passes its own checks (the
 * stack drops the rest before the listener) goes through the routing, the branch computation, the next hop and the
 * SDP lookup without failing. The only refusal allowed is a next hop for a non-SIP URI, which the shim answers with
 * 416. Inputs under SipFuzzTestInputs/ run as regression tests in every build; `JAZZER_FUZZ=1` fuzzes.
 */
class SipFuzzTest
{
    private static final CallInfoStore CALLS = CallInfoStore.local();
    private static final Routes ROUTES = new Routes(new SipContext().listen("10.0.0.100:5060").route("10.0.0.9:5060")
        .conclude(), CALLS);

    static
    {
        // a call the fuzzed requests may name (the call info is looked up by Call-ID for CANCELs and ACKs)
        CALLS.put(new CallInfo("a84b4c76e66710@pc33.atlanta.com", "1928301774", null, "10.0.0.8:5080;udp", 0, -1,
            CallInfo.State.INVITING, Long.MAX_VALUE));
    }
    private static final NextHopRouter ROUTER = new NextHopRouter(null, null);

    static
    {
        // jain-sip's parser logs through log4j unless a logger is set, as the stack does from STACK_LOGGER (SipShim);
        // the first fuzzed input (a lone newline) found that the parser alone fell back to log4j, absent here.
        gov.nist.core.CommonLogger.useLegacyLogger = true;
        gov.nist.core.CommonLogger.legacyLogger = new SipLog();
    }

    @FuzzTest(maxDuration = "30s")
    void whatReachesTheShimNeverFails(final FuzzedDataProvider data)
    {
        final SIPMessage message;
        try
        {
            message = new StringMsgParser().parseSIPMessage(data.consumeRemainingAsBytes(), true, false, null);
            if (!(message instanceof SIPRequest request))
            {
                return;
            }
            request.checkHeaders();
        }
        catch (final ParseException | RuntimeException ex)
        {
            return; // jain-sip refuses it before the shim sees it (400 where it can)
        }
        final Request request = (Request)message.clone();
        Routes.withinDialog(request);
        ROUTES.looseRoute(request);
        ROUTES.addressedToMe(request);
        ROUTES.myRouting(request);
        ROUTES.inviteDestination(request);
        BranchIds.of(request);
        CallProgress.sdp(request);
        try
        {
            ROUTER.getNextHop(request);
        }
        catch (final IllegalArgumentException ex)
        {
            if (!ex.getMessage().startsWith("no SIP hop in"))
            {
                throw ex;
            }
        }
    }
}
