// Hearth & Crumb home page: basket counter, bake filters, newsletter sign-up.
(function () {
  'use strict';

  var basket = [];
  var countBadge = document.querySelector('[data-cart-count]');
  var grid = document.querySelector('[data-products]');

  function renderCount() {
    countBadge.textContent = basket.length ? String(basket.length) : '';
  }

  function addToBasket(button) {
    var sku = button.getAttribute('data-sku');
    if (basket.indexOf(sku) !== -1) return;
    basket.push(sku);
    button.classList.add('is-added');
    button.textContent = 'In your basket';
    renderCount();
    try {
      window.localStorage.setItem('basket', JSON.stringify(basket));
    } catch (error) {
      // Private windows refuse storage; the basket still works for this visit.
    }
  }

  function applyFilter(kind) {
    var products = grid.querySelectorAll('.product');
    for (var i = 0; i < products.length; i++) {
      var product = products[i];
      product.hidden = kind !== 'all' && product.getAttribute('data-kind') !== kind;
    }
    var buttons = document.querySelectorAll('[data-filter]');
    for (var j = 0; j < buttons.length; j++) {
      buttons[j].classList.toggle('is-active', buttons[j].getAttribute('data-filter') === kind);
    }
  }

  function restoreBasket() {
    var saved;
    try {
      saved = JSON.parse(window.localStorage.getItem('basket') || '[]');
    } catch (error) {
      saved = [];
    }
    var buttons = grid.querySelectorAll('.add');
    for (var i = 0; i < buttons.length; i++) {
      if (saved.indexOf(buttons[i].getAttribute('data-sku')) !== -1) addToBasket(buttons[i]);
    }
  }

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var add = target.closest('.add');
    if (add) {
      addToBasket(add);
      return;
    }
    var filter = target.closest('[data-filter]');
    if (filter) applyFilter(filter.getAttribute('data-filter'));
  });

  var form = document.querySelector('[data-newsletter]');
  var status = document.querySelector('[data-form-status]');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var email = form.elements.email.value.trim();
    status.textContent = /.+@.+\..+/.test(email)
      ? 'Thanks! Look out for our next bake list.'
      : 'Please enter an email address.';
  });

  restoreBasket();
  renderCount();
})();
