"""The GraphQL documents the Shopify adapter sends, sized to stay under Shopify's query cost.

A single query may ask for at most 1000 points: an object costs 1, a connection 2 plus `first`
times what each of its objects costs. One order (OrderFields) asks for about 370: 4 for the
order, customer and address, 82 for 20 line items, 5 x 56 for fulfillments (20 lines and 10
scans each). So order pages hold two (about 740), and Returnables (an order and 5 x 64 for
returnable packages) about 690. A product with 50 variants asks for about 200, so details come
4 at a time. The actual cost, what the bucket pays, is far lower for ordinary orders. Orders
with more than 20 line items, 5 packages or 10 scans a package are read in part.
"""

from __future__ import annotations

ORDER_PAGE = 2
ORDER_LIMIT = 20  # orders one look-up returns at most (10 pages)
CUSTOMER_LIMIT = 5  # customers sharing one phone number
CANDIDATE_PAGE = 50  # products per page of search candidates
CATALOGUE_SCAN = 250  # products read at most to find a misspelled word
DETAIL_BATCH = 4  # products whose variants one query fetches

ORDER_FIELDS = """
fragment OrderFields on Order {
  id
  name
  email
  phone
  createdAt
  cancelledAt
  displayFinancialStatus
  currencyCode
  customer { firstName lastName defaultPhoneNumber { phoneNumber } }
  shippingAddress { name address1 city provinceCode zip countryCodeV2 phone }
  lineItems(first: 20) {
    nodes {
      id
      sku
      title
      variantTitle
      quantity
      originalUnitPriceSet { shopMoney { amount currencyCode } }
      product { tags }
    }
  }
  fulfillments(first: 5) {
    id
    status
    displayStatus
    createdAt
    estimatedDeliveryAt
    deliveredAt
    trackingInfo(first: 1) { company number url }
    fulfillmentLineItems(first: 20) { nodes { id quantity lineItem { id } } }
    events(first: 10, sortKey: HAPPENED_AT, reverse: true) {
      nodes { status happenedAt message city province }
    }
  }
}
"""

ORDER_BY_ID = (
    """
query OrderById($id: ID!) {
  order(id: $id) { ...OrderFields }
}
"""
    + ORDER_FIELDS
)

ORDERS = (
    """
query Orders($query: String!, $first: Int!, $after: String) {
  orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT, reverse: true) {
    pageInfo { hasNextPage endCursor }
    nodes { ...OrderFields }
  }
}
"""
    + ORDER_FIELDS
)

CUSTOMERS = """
query Customers($query: String!, $first: Int!) {
  customers(first: $first, query: $query) {
    nodes { id defaultPhoneNumber { phoneNumber } }
  }
}
"""

RETURNABLES = (
    """
query Returnables($orderId: ID!) {
  order(id: $orderId) { ...OrderFields }
  returnableFulfillments(orderId: $orderId, first: 5) {
    nodes {
      id
      fulfillment { id }
      returnableFulfillmentLineItems(first: 20) {
        nodes { quantity fulfillmentLineItem { id lineItem { id } } }
      }
    }
  }
}
"""
    + ORDER_FIELDS
)

RETURN_REQUEST = """
mutation ReturnRequest($input: ReturnRequestInput!) {
  returnRequest(input: $input) {
    return {
      id
      name
      status
      createdAt
      order { id }
      returnLineItems(first: 20) {
        nodes {
          ... on ReturnLineItem {
            id
            quantity
            customerNote
            fulfillmentLineItem { lineItem { id } }
          }
        }
      }
    }
    userErrors { field message code }
  }
}
"""

ORDER_CANCEL = """
mutation OrderCancel(
  $orderId: ID!
  $reason: OrderCancelReason!
  $staffNote: String
  $refundMethod: OrderCancelRefundMethodInput!
  $restock: Boolean!
  $notifyCustomer: Boolean
) {
  orderCancel(
    orderId: $orderId
    reason: $reason
    staffNote: $staffNote
    refundMethod: $refundMethod
    restock: $restock
    notifyCustomer: $notifyCustomer
  ) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""

JOB = """
query Job($id: ID!) {
  job(id: $id) { id done }
}
"""

PRODUCT_CANDIDATES = """
query ProductCandidates(
  $query: String!
  $first: Int!
  $after: String
  $sortKey: ProductSortKeys!
) {
  products(first: $first, after: $after, query: $query, sortKey: $sortKey) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      title
      productType
      tags
      description
      options { name optionValues { name } }
    }
  }
}
"""

PRODUCT_DETAILS = """
query ProductDetails($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on Product {
      id
      handle
      title
      description
      productType
      tags
      variants(first: 50) {
        nodes {
          id
          sku
          title
          price
          inventoryQuantity
          selectedOptions { name value }
          inventoryItem { tracked }
          restockDate: metafield(namespace: "custom", key: "restock_date") { value }
        }
      }
    }
  }
}
"""


def search_value(value: str) -> str:
    """`value` double-quoted for Shopify's search syntax, so spaces and `:` stay inside it."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
