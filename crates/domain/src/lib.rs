//! Canopy's domain vocabulary: the types every other crate speaks.
//!
//! Values here are parsed, never merely validated: a [`PhoneNumber`] is E.164 from the moment it exists, an
//! [`Email`] carries its matching key, a [`Customer`] cannot exist without its [`CustomerId`]. Nothing in this
//! crate does I/O or reads the clock; callers pass "now" in.

pub mod actor;
pub mod bounds;
pub mod consent;
pub mod customer;
pub mod documents;
pub mod email;
pub mod events;
pub mod ids;
pub mod net;
pub mod permissions;
pub mod phone;
pub mod sms;
pub mod staff;
pub mod text;
pub mod verification;

pub use actor::{Actor, ActorKind};
pub use consent::{
    ConsentChange, ConsentChannel, ConsentEntry, ConsentPurpose, ConsentSource, ConsentState,
    ConsentStatus, SmsKeyword,
};
pub use customer::{
    Address, Ban, Channel, Customer, CustomerDraft, CustomerPatch, CustomerType, IdDocument,
    IdDocumentInput, IdDocumentKind, Note, PersonName, age_on, id_number_key,
};
pub use documents::{DocumentKind, Mismatch, RejectionReason, SubmissionStatus};
pub use email::Email;
pub use events::EventKind;
pub use ids::{
    ApiKeyId, CheckinId, CustomerId, DiscountId, EventId, GroupId, MergeId, NoteId, OrderId,
    ProductId, SessionId, SmsMessageId, StoreId, UserId, WebhookDeliveryId, WebhookEndpointId,
};
pub use net::OutboundPolicy;
pub use permissions::{Permission, PermissionSet, Role};
pub use phone::{PhoneNumber, Region};
pub use sms::{NotifiedStatus, SmsTemplate};
pub use staff::{ApiKey, NewPassword, StaffUser, Username};
pub use text::FieldError;
pub use verification::{
    IdVerification, ManualDocumentInput, MedicalCard, MedicalCardInput, Recommendation,
    RecommendationInput, VerificationMethod, VerificationStatus, VerifiedDocument,
};
