/**
 * What each default RFM segment means and what to do with it: one line each, shown beside the
 * segment table of the run report so a reader can act on it without a marketing handbook.
 */
import type { DEFAULT_SEGMENT_NAMES } from './score.ts';

export const SEGMENT_GUIDE: Record<(typeof DEFAULT_SEGMENT_NAMES)[number], string> = {
  Champions:
    'Bought recently, often and for a lot. Reward and listen to them: early access, referrals, reviews; no discounts needed.',
  'Loyal Customers':
    'Buy regularly. Keep them close: loyalty benefits, cross-sell what fits their history, ask for feedback.',
  'Potential Loyalists':
    'Recent buyers with a few orders. Build the habit: a membership or subscription offer, a timely second reason to come back.',
  'New Customers':
    'First purchase very recently. Welcome them: onboarding, the help they need with what they bought, a reason for a second order.',
  Promising:
    'Recent but infrequent buyers. Make them aware of the range: recommendations based on the first order, a small incentive to return.',
  'Need Attention':
    'Middle of the road on recency and frequency. Re-engage before they slip: a personal, limited-time offer or relevant news.',
  'About to Sleep':
    'Below average recency and frequency. Wake them up with something relevant (new arrivals, a reminder) before they are lost.',
  'At Risk':
    'Used to buy often but not lately. Win them back personally: what changed? A service call or a tailored offer pays off here.',
  "Can't Lose Them":
    'Were among the best customers and have gone quiet. Contact them one to one (not a campaign): they are worth the effort.',
  Hibernating:
    'Long since the last and only a few orders. Low priority: include them in broad campaigns only, at low cost.',
  Lost: 'Long gone, with little value. Let them go (no paid contact); keep them only in free channels.',
};

/** The line for a segment; custom segment names (own grid) get a pointer to their own rules. */
export function segmentGuide(segment: string): string {
  return (
    (SEGMENT_GUIDE as Record<string, string>)[segment] ??
    'A segment of your own grid (config segments): see the rules that define it.'
  );
}
